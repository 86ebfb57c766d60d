"""The storage interface every backend implements.

A backend stores opaque objects under string keys. It knows nothing of HTTP
or of either API family; the gateway's own records (sessions, folders, file
metadata) are small JSON objects stored through the same interface, so one
storage URL holds everything and several gateway processes can share it.

Guarantees every backend gives (checked by ``tests/backends/test_contract.py``):

- ``put`` is atomic: the object becomes visible only once complete; a put that
  fails or is cancelled leaves nothing behind and the previous version intact.
- ``put(..., if_absent=True)`` succeeds for exactly one of several racing
  writers; the others get ``AlreadyExists``.
- ``open`` gives a consistent snapshot: the info and the bytes belong to the
  same version even if the key is overwritten or deleted meanwhile. A
  backend that keeps no old versions (S3) raises ``ObjectChanged`` instead,
  before returning any byte of the read, never another version's bytes.
- ``list`` returns keys under a prefix in lexical (code point) order, after
  ``start_after``, at most ``limit`` of them.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from .errors import StorageFull
from .keys import check_key

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Entry:
    """What a listing tells of one object."""

    key: str
    size: int
    etag: str  # unquoted; the HTTP layer adds the quotes
    modified: float  # unix time, seconds


@dataclass(frozen=True)
class ObjectInfo(Entry):
    """What ``stat`` and ``open`` tell of one object."""

    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: Mapping[str, str] = field(default_factory=dict)


class Blob(ABC):
    """One version of one object, opened for reading.

    Reads see the version that was current at open time, whatever happens to
    the key afterwards, or raise ``ObjectChanged`` where that version is gone.
    """

    info: ObjectInfo
    #: A real file positioned anywhere, for ``sendfile``; None when the
    #: backend has none (memory, S3).
    file: BinaryIO | None = None

    @abstractmethod
    def stream(self, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        """Yield bytes ``[start, end)`` of this version in chunks."""


#: Chunks a ``BytesBlob`` streams in.
BYTES_CHUNK = 256 * 1024


class BytesBlob(Blob):
    """A version held in memory: the memory backend's objects, and anything
    else answered as a stored object (a thumbnail just made)."""

    def __init__(self, info: ObjectInfo, data: bytes) -> None:
        self.info = info
        self._data = data

    async def stream(self, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        end = self.info.size if end is None else end
        view = memoryview(self._data)
        for offset in range(start, end, BYTES_CHUNK):
            yield bytes(view[offset : min(offset + BYTES_CHUNK, end)])


class BaseBackend(ABC):
    """Async object storage. Implementations live beside this module."""

    #: Whether the last write failed for lack of space (``StorageFull``) and
    #: none has succeeded since: what readiness reports.
    full: bool = False

    async def start(self) -> None:
        """Prepare for use (create folders, open client sessions)."""

    async def close(self) -> None:
        """Release what ``start`` acquired."""

    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the storage answers."""
        await self.list("", limit=1)

    @abstractmethod
    async def _put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: Mapping[str, str],
        if_absent: bool,
    ) -> ObjectInfo: ...

    @abstractmethod
    async def _stat(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    def _open(self, key: str) -> contextlib.AbstractAsyncContextManager[Blob]: ...

    @abstractmethod
    async def _delete(self, key: str) -> bool: ...

    @abstractmethod
    async def _list(self, prefix: str, start_after: str, limit: int) -> list[Entry]: ...

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        metadata: Mapping[str, str] | None = None,
        if_absent: bool = False,
    ) -> ObjectInfo:
        """Store the bytes of ``chunks`` under ``key``.

        An exception raised by ``chunks`` (e.g. a size limit) aborts the put
        and propagates; nothing is stored. With ``if_absent`` an existing
        object is left alone and ``AlreadyExists`` raised.
        """
        check_key(key)
        with self._space_tracked():
            return await self._put(key, chunks, content_type, dict(metadata or {}), if_absent)

    async def stat(self, key: str) -> ObjectInfo:
        """Return the object's info, or raise ``NotFound``."""
        check_key(key)
        return await self._stat(key)

    def open(self, key: str) -> contextlib.AbstractAsyncContextManager[Blob]:
        """``async with backend.open(key) as blob``; raises ``NotFound``."""
        check_key(key)
        return self._open(key)

    async def delete(self, key: str) -> bool:
        """Remove the object; return whether there was one."""
        check_key(key)
        return await self._delete(key)

    async def list(self, prefix: str = "", *, start_after: str = "", limit: int = 1000) -> list[Entry]:
        """Up to ``limit`` entries with keys starting with ``prefix`` and
        greater than ``start_after``, in lexical order."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return await self._list(prefix, start_after, limit)

    # Conveniences built on the primitives above.

    async def iter_all(self, prefix: str, page_size: int = 1000) -> AsyncIterator[Entry]:
        """Every entry under ``prefix``, one bounded listing at a time."""
        start_after = ""
        while True:
            page = await self.list(prefix, start_after=start_after, limit=page_size)
            for entry in page:
                yield entry
            if len(page) < page_size:
                return
            start_after = page[-1].key

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; return how many."""
        # Collect first: deleting while listing could skip keys on some backends.
        keys = [entry.key async for entry in self.iter_all(prefix)]
        for key in keys:
            await self.delete(key)
        return len(keys)

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE, if_absent: bool = False
    ) -> ObjectInfo:
        """Store a small object held in memory."""
        check_key(key)
        with self._space_tracked():
            return await self._put_bytes(key, data, content_type, if_absent)

    @contextlib.contextmanager
    def _space_tracked(self) -> Iterator[None]:
        try:
            yield
        except StorageFull:
            self.full = True
            raise
        self.full = False

    async def _put_bytes(self, key: str, data: bytes, content_type: str, if_absent: bool) -> ObjectInfo:
        """Through ``_put``; backends with a cheaper way override this."""
        return await self._put(key, _once(data), content_type, {}, if_absent)

    async def put_json(self, key: str, value: Any, *, if_absent: bool = False) -> ObjectInfo:
        data = json.dumps(value, separators=(",", ":")).encode()
        return await self.put_bytes(key, data, content_type="application/json", if_absent=if_absent)

    async def get_bytes(self, key: str) -> bytes:
        """A small object, whole: one version of it, whatever writers do."""
        check_key(key)
        return await self._get_bytes(key)

    async def _get_bytes(self, key: str) -> bytes:
        """Through ``open``; backends with a cheaper way override this."""
        async with self._open(key) as blob:
            return b"".join([chunk async for chunk in blob.stream()])

    async def get_json(self, key: str) -> Any:
        return json.loads(await self.get_bytes(key))


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
