"""Which file names an upload may have (both API families).

Upstreams take the base name and rewrites whitespace to ``_``. We store the
name exactly as given when it is safe, and refuse it with 400 otherwise,
rather than silently storing something else. A name (``check_name``, the
session API) and each segment of a path-like name (``check_path_name``,
the folder API) must be:

- not empty, not ``.`` or ``..``, at most 255 bytes of UTF-8;
- free of ``\\``, NUL and other control characters, and of leading or
  trailing whitespace.

A plain name has no ``/``. A path-like name is segments joined by ``/``
(``folder_a/folder_b/notes.txt``): a logical path kept as metadata, never a
storage path (storage keys come from ids), so no leading ``/`` and no empty
segment; at most 1024 bytes in all.

The client (httpx) writes ``"`` as ``%22`` and control characters as
``%00``..``%1F`` in the multipart filename; those escapes are decoded back
before the check, so a NUL or a newline is refused rather than stored as
text. Nothing else is percent-decoded, so ``..%2F`` is a literal, harmless
name.
"""

from __future__ import annotations

import re

from ..http.errors import invalid

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024
FORM_ESCAPE = re.compile(r"%(22|[01][0-9A-Fa-f])")


def from_form(raw: str) -> str:
    """The file name a multipart ``filename`` parameter stands for."""
    return FORM_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)


def check_name(name: str) -> str:
    """Return ``name`` if it can be stored; raise 400 otherwise."""
    if "/" in name:
        raise invalid("File name must not contain '/' or '\\'")
    return _check_segment(name, "File name")


def check_path_name(name: str) -> str:
    """Return the path-like ``name`` if it can be stored; raise 400 otherwise."""
    if name.startswith("/"):
        raise invalid("File name must not start with '/'")
    segments = name.split("/")
    for segment in segments:
        _check_segment(segment, "File name" if len(segments) == 1 else f"Segment {segment!r} of the file name")
    if len(name.encode("utf-8")) > MAX_PATH_BYTES:
        raise invalid(f"File name must be at most {MAX_PATH_BYTES} bytes of UTF-8")
    return name


def _check_segment(name: str, what: str) -> str:
    if not name or name in (".", ".."):
        raise invalid(f"{what} must not be empty, '.' or '..'")
    if "\\" in name:
        raise invalid(f"{what} must not contain '\\'")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise invalid(f"{what} must not contain control characters")
    if name != name.strip():
        raise invalid(f"{what} must not start or end with whitespace")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise invalid(f"{what} is not valid UTF-8") from None
    if size > MAX_NAME_BYTES:
        raise invalid(f"{what} must be at most {MAX_NAME_BYTES} bytes of UTF-8")
    return name
