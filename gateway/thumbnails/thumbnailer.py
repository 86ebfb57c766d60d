"""Thumbnails, made off the event loop and cached in storage.

A thumbnail is stored under a key holding the source's etag and the spec,
so a re-upload (new etag) never serves an old one; the session store
removes a file's thumbnails with the file. Concurrent requests for the same
missing thumbnail share one generation. A thumbnail just made is answered
from memory while it is being stored, under an ETag that names the key, so
that the stored copy later answers with the same ETag (and 304s).

Decoding runs in a small thread pool (Pillow and PyAV release the GIL while
they decode and resize), at most ``concurrency`` at once, with at most
``backlog`` thumbnails waiting or being made; a request for one more is
answered 503 (``Busy``) at once. A request whose thumbnail takes longer than
``timeout`` is answered 503 (``TimeoutError``); the generation itself goes
on in the background, bounded by the pixel limit (and, for videos, by the
frames decoded after a keyframe), and stores its result for the next
request. Sources in memory or S3 are read in ranges, as the decoder asks for
them, never downloaded whole.

From the second size asked of an image source version on, thumbnails are
made of a reduced copy of it kept in memory, not of the source: see
``copies.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import io
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import BinaryIO, TypeVar

from aiohttp import web

from backends import BaseBackend, Blob, BytesBlob, NotFound, ObjectChanged, ObjectInfo

from .copies import Copies
from .errors import Busy
from .formats import JPEG, Output
from .images import EXTENSIONS as IMAGE_EXTENSIONS
from .images import Decoded, decode, image_thumbnail
from .ranges import RangeReader
from .spec import ThumbSpec
from .videos import EXTENSIONS as VIDEO_EXTENSIONS
from .videos import video_thumbnail

BUFFER = 64 * 1024
log = logging.getLogger(__name__)
T = TypeVar("T")


class Thumbnailer:
    """One per app; see the module's docstring."""

    def __init__(
        self,
        storage: BaseBackend,
        *,
        max_pixels: int,
        observe: Callable[[float], object],
        timeout: float,
        concurrency: int = 2,
        backlog: int = 64,
        copies: Copies | None = None,
    ) -> None:
        self._storage = storage
        self._observe = observe  # seconds each generation took
        self._max_pixels = max_pixels
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._backlog = backlog
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="thumbnail")
        #: Per key: the task making and storing it, and the bytes once made.
        self._making: dict[str, tuple[asyncio.Task[None], asyncio.Future[bytes]]] = {}
        self._copies = copies if copies is not None else Copies()
        #: Per source version: the task making its copy.
        self._copying: dict[tuple[str, str], asyncio.Future[Decoded]] = {}
        #: Copies being made of sources forgotten since: not to be kept.
        self._forgotten: set[asyncio.Future[Decoded]] = set()

    async def close(self) -> None:
        """Stop making thumbnails: those under way are dropped, not cached."""
        tasks = [task for task, _ in self._making.values()] + [*self._copying.values(), *self._forgotten]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._copies.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def forget(self, key: str) -> None:
        """Drop the copies of the source at ``key``, deleted or replaced:
        see ``copies.py``."""
        self._forget(lambda source: source == key)

    def forget_under(self, prefix: str) -> None:
        """Drop the copies of every source whose key starts with ``prefix``."""
        self._forget(lambda source: source.startswith(prefix))

    def _forget(self, source: Callable[[str], bool]) -> None:
        self._copies.forget(source)
        # A copy being made of a source read before it went is not kept.
        for version in [version for version in self._copying if source(version[0])]:
            self._forgotten.add(self._copying.pop(version))

    @property
    def copies(self) -> Copies:
        return self._copies

    @property
    def in_progress(self) -> int:
        """Thumbnails waiting for a worker or being made."""
        return len(self._making)

    @staticmethod
    def kind(name: str) -> str | None:
        """``image`` or ``video`` by the name's extension, else None."""
        suffix = PurePosixPath(name).suffix.lower()
        return "image" if suffix in IMAGE_EXTENSIONS else "video" if suffix in VIDEO_EXTENSIONS else None

    @contextlib.asynccontextmanager
    async def open(
        self, source: ObjectInfo, cache_prefix: str, spec: ThumbSpec, at: float | None, output: Output = JPEG
    ) -> AsyncIterator[Blob]:
        """The thumbnail of ``source`` (a video's frame at ``at`` seconds, an
        image's when ``at`` is None) as ``output``, opened from the cache or
        made now; either way under an ETag naming its cache key."""
        key = f"{cache_prefix}{source.etag}/{spec}{'' if at is None else f'@{at:g}'}{output.extension}"
        etag = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        async with contextlib.AsyncExitStack() as stack:
            cached = None
            if key not in self._making:  # else it is in memory, or soon will be
                with contextlib.suppress(NotFound):
                    cached = await stack.enter_async_context(self._storage.open(key))
            if cached is not None:
                yield _Named(cached, etag)
            else:
                data = await self._made(source, key, spec, at, output)
                yield BytesBlob(ObjectInfo(key, len(data), etag, time.time(), output.media_type), data)

    async def _made(self, source: ObjectInfo, key: str, spec: ThumbSpec, at: float | None, output: Output) -> bytes:
        """The thumbnail's bytes, made by this request or by one already making them."""
        making = self._making.get(key)
        if making is None:
            if len(self._making) >= self._backlog:
                raise Busy
            made = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._make(source, key, spec, at, output, made))
            self._making[key] = making = (task, made)
            task.add_done_callback(lambda done: self._finished(key, done, made))
        async with asyncio.timeout(self._timeout):
            return await asyncio.shield(making[1])

    def _finished(self, key: str, task: asyncio.Task[None], made: asyncio.Future[bytes]) -> None:
        del self._making[key]
        # Retrieved here: nobody may be waiting any more.
        if made.done() and not made.cancelled():
            made.exception()
        if not task.cancelled() and (error := task.exception()) is not None and made.done():
            log.warning("a thumbnail was answered but not cached: %s", error)

    async def _make(
        self,
        source: ObjectInfo,
        key: str,
        spec: ThumbSpec,
        at: float | None,
        output: Output,
        made: asyncio.Future[bytes],
    ) -> None:
        """Make the thumbnail into ``made``, then store it. Waiters get it as
        soon as it is made, before the source is closed and while it is stored."""
        started = time.perf_counter()
        try:
            copy = self._copies.get(source.key, source.etag) if at is None else None
            if at is None and copy is None and self._copies.wanted(source.key, source.etag):
                copy = await self._copy(source)
            if copy is not None and copy.serves(spec):
                async with self._slots:
                    made.set_result(await self._run(copy.thumbnail, spec, output))
            else:
                async with self._slots, self._opened(source) as file:
                    if at is None:
                        work = functools.partial(image_thumbnail, file, spec, self._max_pixels, output=output)
                    else:
                        work = functools.partial(video_thumbnail, file, spec, at, self._max_pixels, output=output)
                    made.set_result(await self._run(work))
            self._observe(time.perf_counter() - started)
        except asyncio.CancelledError:
            if not made.done():
                made.cancel()
            raise
        except Exception as exc:
            if made.done():
                raise  # closing the source failed, after the answer: logged by _finished
            made.set_exception(exc)
            return
        await self._storage.put_bytes(key, made.result(), content_type=output.media_type)

    async def _copy(self, source: ObjectInfo) -> Decoded:
        """The reduced copy of an image source (see ``copies.py``), made once
        for the requests that want it at the same time."""
        version = (source.key, source.etag)
        making = self._copying.get(version)
        if making is None:
            making = asyncio.ensure_future(self._decode(source))
            self._copying[version] = making
            making.add_done_callback(lambda done: self._copied(version, done))
        return await asyncio.shield(making)

    async def _decode(self, source: ObjectInfo) -> Decoded:
        async with self._slots, self._opened(source) as file:
            return await self._run(lambda: decode(file, None, self._max_pixels).fitted())

    def _copied(self, version: tuple[str, str], done: asyncio.Future[Decoded]) -> None:
        # Retrieved here: its requests may have been answered or gone already.
        made = not done.cancelled() and done.exception() is None
        if done in self._forgotten:
            self._forgotten.discard(done)
            return
        del self._copying[version]
        if made:
            self._copies.add(*version, done.result())

    def _run(self, work: Callable[..., T], *args: object) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    @contextlib.asynccontextmanager
    async def _opened(self, source: ObjectInfo) -> AsyncIterator[BinaryIO]:
        """The source's bytes, as long as they are still the version ``source`` names."""
        async with self._storage.open(source.key) as blob, _readable(blob) as file:
            if blob.info.etag != source.etag:  # replaced since: not what the key names
                raise ObjectChanged(source.key)
            yield file


class _Named(Blob):
    """A stored blob shown under another ETag (its own stays for its reads)."""

    def __init__(self, blob: Blob, etag: str) -> None:
        self.info = dataclasses.replace(blob.info, etag=etag)
        self.file = blob.file
        self._blob = blob

    def stream(self, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        return self._blob.stream(start, end)


@contextlib.asynccontextmanager
async def _readable(blob: Blob) -> AsyncIterator[BinaryIO]:
    """A seekable file of the blob's bytes for a worker thread: its own file
    on local disk (a duplicate descriptor, closed with this file object; the
    blob reads with pread, so their shared position is in nobody's way),
    else ranged reads of the blob (see ``ranges.py``)."""
    if blob.file is not None:
        with os.fdopen(os.dup(blob.file.fileno()), "rb") as file:
            file.seek(0)
            yield file
        return
    with io.BufferedReader(RangeReader(blob, asyncio.get_running_loop()), BUFFER) as reader:
        yield reader


THUMBNAILS = web.AppKey("thumbnails", Thumbnailer)
