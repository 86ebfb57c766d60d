"""Which file names an upload may have (both API families).

Upstreams take the base name and rewrites whitespace to ``_``. We store the
name exactly as given when it is safe, and refuse it with 400 otherwise,
rather than silently storing something else:

- not empty, not ``.`` or ``..``, at most 255 bytes of UTF-8;
- no ``/`` or ``\\`` (a name is never a path), no NUL or other control
  character, no leading or trailing whitespace.

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
FORM_ESCAPE = re.compile(r"%(22|[01][0-9A-Fa-f])")


def from_form(raw: str) -> str:
    """The file name a multipart ``filename`` parameter stands for."""
    return FORM_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)


def check_name(name: str) -> str:
    """Return ``name`` if it can be stored; raise 400 otherwise."""
    if not name or name in (".", ".."):
        raise invalid("File name must not be empty, '.' or '..'")
    if "/" in name or "\\" in name:
        raise invalid("File name must not contain '/' or '\\'")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise invalid("File name must not contain control characters")
    if name != name.strip():
        raise invalid("File name must not start or end with whitespace")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise invalid("File name is not valid UTF-8") from None
    if size > MAX_NAME_BYTES:
        raise invalid(f"File name must be at most {MAX_NAME_BYTES} bytes of UTF-8")
    return name
