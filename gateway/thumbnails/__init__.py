"""Thumbnails, made off the event loop and cached in storage.

A thumbnail is stored under a key holding the source's etag and the spec,
so a re-upload (new etag) never serves an old one; the session store
removes a file's thumbnails with the file. Concurrent requests for the same
missing thumbnail share one generation.

Decoding runs in a small thread pool (Pillow and PyAV release the GIL while
they decode and resize), at most ``concurrency`` at once. A request whose
thumbnail takes longer than ``timeout`` is answered 503 (``TimeoutError``)
at once; the generation itself goes on in the background, bounded by the
pixel limit (and, for videos, by one group of pictures), and stores its
result for the next request. Sources in memory or S3 are read in ranges,
as the decoder asks for them, never downloaded whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import BinaryIO

from aiohttp import web

from backends import BaseBackend, NotFound
from backends.base import Blob, ObjectInfo

from .errors import MediaError
from .images import EXTENSIONS as IMAGE_EXTENSIONS
from .images import image_thumbnail
from .ranges import RangeReader
from .spec import ThumbSpec
from .videos import EXTENSIONS as VIDEO_EXTENSIONS
from .videos import video_thumbnail

BUFFER = 64 * 1024


class Thumbnailer:
    """One per app; see the module's docstring."""

    def __init__(
        self,
        storage: BaseBackend,
        *,
        max_pixels: int,
        observe: Callable[[float], object],
        concurrency: int = 2,
        timeout: float = 30.0,
    ) -> None:
        self._storage = storage
        self._observe = observe  # seconds each generation took
        self._max_pixels = max_pixels
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="thumbnail")
        self._making: dict[str, asyncio.Task[None]] = {}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def in_progress(self) -> int:
        """Thumbnails waiting for a worker or being made."""
        return len(self._making)

    @staticmethod
    def kind(name: str) -> str | None:
        """``image`` or ``video`` by the name's extension, else None."""
        suffix = PurePosixPath(name).suffix.lower()
        return "image" if suffix in IMAGE_EXTENSIONS else "video" if suffix in VIDEO_EXTENSIONS else None

    async def cached(self, source: ObjectInfo, cache_prefix: str, spec: ThumbSpec, at: float | None) -> str:
        """The key of the thumbnail of ``source`` (a video's frame at ``at``
        seconds, an image's when ``at`` is None), made and stored if missing."""
        key = f"{cache_prefix}{source.etag}/{spec}{'' if at is None else f'@{at:g}'}.jpg"
        with contextlib.suppress(NotFound):
            await self._storage.stat(key)
            return key
        task = self._making.get(key)
        if task is None:
            task = asyncio.ensure_future(self._make(source, key, spec, at))
            self._making[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        await asyncio.wait_for(asyncio.shield(task), self._timeout)
        return key

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        del self._making[key]
        if not task.cancelled():
            task.exception()  # retrieved: nobody may be waiting any more

    async def _make(self, source: ObjectInfo, key: str, spec: ThumbSpec, at: float | None) -> None:
        started = time.perf_counter()
        async with self._slots, self._storage.open(source.key) as blob, _readable(blob) as file:
            loop = asyncio.get_running_loop()
            if at is None:
                work = functools.partial(image_thumbnail, file, spec, self._max_pixels)
            else:
                work = functools.partial(video_thumbnail, file, spec, at, self._max_pixels)
            data = await loop.run_in_executor(self._executor, work)
        self._observe(time.perf_counter() - started)
        await self._storage.put_bytes(key, data, content_type="image/jpeg")


@contextlib.asynccontextmanager
async def _readable(blob: Blob) -> AsyncIterator[BinaryIO]:
    """A seekable file of the blob's bytes for a worker thread: its own file
    on local disk, else ranged reads of the blob (see ``ranges.py``)."""
    if blob.file is not None:
        with os.fdopen(os.dup(blob.file.fileno()), "rb") as file:
            file.seek(0)
            yield file
        return
    with io.BufferedReader(RangeReader(blob, asyncio.get_running_loop()), BUFFER) as reader:
        yield reader  # type: ignore[misc]


THUMBNAILS = web.AppKey("thumbnails", Thumbnailer)

__all__ = ["THUMBNAILS", "MediaError", "Thumbnailer"]
