"""In-memory backend (``memory://``): for tests and ephemeral use.

Objects live in this process only; they vanish at exit and are not shared
between gateway processes.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping

from .base import BaseBackend, Blob, BytesBlob, Entry, ObjectInfo
from .errors import AlreadyExists, NotFound


class MemoryBackend(BaseBackend):
    def __init__(self) -> None:
        self._objects: dict[str, tuple[ObjectInfo, bytes]] = {}
        self._keys: list[str] = []  # sorted, for listing

    async def _put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: Mapping[str, str],
        if_absent: bool,
    ) -> ObjectInfo:
        if if_absent and key in self._objects:
            raise AlreadyExists(key)
        buffer = bytearray()
        async for chunk in chunks:
            buffer += chunk
        data = bytes(buffer)
        # Checked again: another writer may have won while we were reading.
        if if_absent and key in self._objects:
            raise AlreadyExists(key)
        info = ObjectInfo(
            key=key,
            size=len(data),
            etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            modified=time.time(),
            content_type=content_type,
            metadata=dict(metadata),
        )
        if key not in self._objects:
            bisect.insort(self._keys, key)
        self._objects[key] = (info, data)
        return info

    async def _stat(self, key: str) -> ObjectInfo:
        try:
            return self._objects[key][0]
        except KeyError:
            raise NotFound(key) from None

    @contextlib.asynccontextmanager
    async def _open(self, key: str) -> AsyncIterator[Blob]:
        try:
            info, data = self._objects[key]
        except KeyError:
            raise NotFound(key) from None
        yield BytesBlob(info, data)

    async def _delete(self, key: str) -> bool:
        if self._objects.pop(key, None) is None:
            return False
        del self._keys[bisect.bisect_left(self._keys, key)]
        return True

    async def _list(self, prefix: str, start_after: str, limit: int) -> list[Entry]:
        entries: list[Entry] = []
        if start_after >= prefix:
            index = bisect.bisect_right(self._keys, start_after)
        else:
            index = bisect.bisect_left(self._keys, prefix)
        for key in self._keys[index:]:
            if not key.startswith(prefix) or len(entries) == limit:
                break
            info = self._objects[key][0]
            entries.append(Entry(info.key, info.size, info.etag, info.modified))
        return entries
