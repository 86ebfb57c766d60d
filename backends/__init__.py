"""Storage backends behind one interface, chosen by a storage URL.

- ``memory://``: in this process only (tests, ephemeral use);
- ``file:///abs/path`` or ``file://./rel/path``: local disk;
- ``s3://bucket/optional/prefix``: S3 or an S3-compatible server.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from .base import BaseBackend, Blob, Entry, ObjectInfo
from .errors import (
    AlreadyExists,
    InvalidKey,
    NotFound,
    ObjectChanged,
    StorageConfigError,
    StorageError,
    StorageFull,
    StorageUnavailable,
)

__all__ = [
    "AlreadyExists",
    "BaseBackend",
    "Blob",
    "Entry",
    "InvalidKey",
    "NotFound",
    "ObjectChanged",
    "ObjectInfo",
    "StorageConfigError",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "backend_from_url",
]

SCHEMES = ("memory", "file", "s3")


def backend_from_url(url: str) -> BaseBackend:
    """Build the backend a storage URL names; ``StorageConfigError`` if none."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        from .memory import MemoryBackend

        return MemoryBackend()
    if parts.scheme == "file":
        from .local import from_url_path

        # file://./data keeps "." as the netloc: a path relative to the
        # working directory. file:///abs has an empty netloc.
        if parts.netloc not in ("", ".", ".."):
            raise StorageConfigError(f"file:// storage URL must be file:///abs/path or file://./rel/path, not {url!r}")
        return from_url_path(unquote(parts.netloc + parts.path))
    if parts.scheme == "s3":
        from .s3 import from_url

        return from_url(url)
    known = ", ".join(f"{scheme}://" for scheme in SCHEMES)
    raise StorageConfigError(f"unknown storage URL {url!r}: expected one of {known}")
