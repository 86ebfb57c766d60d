"""Storage backends behind one interface, chosen by a storage URL.

- ``memory://``: in this process only (tests, ephemeral use);
- ``file:///abs/path`` or ``file://./rel/path``: local disk;
- ``s3://bucket/optional/prefix``: S3 or an S3-compatible server.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import BaseBackend, Blob, BytesBlob, Entry, ObjectInfo
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
    "BytesBlob",
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
    # Each backend module has a from_url; imported on demand, so that the
    # memory and local backends need no AWS libraries loaded.
    if parts.scheme == "file":
        from . import local

        return local.from_url(url)
    if parts.scheme == "s3":
        from . import s3

        return s3.from_url(url)
    known = ", ".join(f"{scheme}://" for scheme in SCHEMES)
    raise StorageConfigError(f"unknown storage URL {url!r}: expected one of {known}")
