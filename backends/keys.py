"""Which keys a backend accepts.

A key is a ``/``-separated path of segments. The rules are strict enough that
a key maps to a file path that can never leave the local root, and that the
same key means the same object on every backend.
"""

from __future__ import annotations

from .errors import InvalidKey

MAX_KEY_BYTES = 1024  # S3's limit
MAX_SEGMENT_BYTES = 255  # the usual file name limit of local file systems


def check_key(key: str) -> None:
    """Raise ``InvalidKey`` unless ``key`` is safe on every backend."""
    if not key:
        raise InvalidKey("empty key")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(f"key longer than {MAX_KEY_BYTES} bytes")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise InvalidKey("control character in key")
    if "\\" in key:
        raise InvalidKey("backslash in key")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey("key is not valid UTF-8") from None
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(f"empty, '.' or '..' segment in key {key!r}")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise InvalidKey(f"key segment longer than {MAX_SEGMENT_BYTES} bytes")
