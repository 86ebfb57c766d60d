"""A seekable, read-only file over a blob's ranged reads, for decoders that
run in a worker thread while the blob lives on the event loop.

PyAV and Pillow read what they need and seek: an mp4 index at the end, one
frame's group of pictures in the middle. Reading 1 MiB blocks on demand
(eight kept) means a thumbnail of a large video on S3 costs a few ranged
GETs and bounded memory, not a download of the whole file.
"""

from __future__ import annotations

import asyncio
import io
from collections import OrderedDict

from backends import Blob

BLOCK = 1024 * 1024
KEPT_BLOCKS = 8
READ_TIMEOUT = 60.0


class RangeReader(io.RawIOBase):
    def __init__(self, blob: Blob, loop: asyncio.AbstractEventLoop) -> None:
        self._blob = blob
        self._loop = loop
        self._size = blob.info.size
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._position >= self._size:
            return 0
        index, offset = divmod(self._position, BLOCK)
        block = self._block(index)
        count = min(len(buffer), len(block) - offset)
        buffer[:count] = block[offset : offset + count]
        self._position += count
        return count

    def _block(self, index: int) -> bytes:
        if index in self._blocks:
            self._blocks.move_to_end(index)
            return self._blocks[index]
        start = index * BLOCK
        future = asyncio.run_coroutine_threadsafe(self._read(start, min(start + BLOCK, self._size)), self._loop)
        block = future.result(READ_TIMEOUT)
        self._blocks[index] = block
        if len(self._blocks) > KEPT_BLOCKS:
            self._blocks.popitem(last=False)
        return block

    async def _read(self, start: int, end: int) -> bytes:
        return b"".join([chunk async for chunk in self._blob.stream(start, end)])
