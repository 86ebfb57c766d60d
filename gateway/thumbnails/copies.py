"""Reduced copies of image sources, kept in memory so that the sizes of one
source after the first are made of a copy, not of another decode.

A page asks for one image in several sizes (grid, preview, retina). The
second thumbnail asked of a source version decodes it once more, for the
largest thumbnail any spec can ask (its short side at ``MAX_SIZE``: h1024 of
a landscape picture), resizes that to the largest thumbnail's size and
keeps it; every later size is resized from it (a 24 MP JPEG: 1536 × 1024,
4.5 MiB). The first thumbnail of a source is made directly, as cheaply as
it can be: a source asked once (a grid of new uploads) never pays for a
copy.

A thumbnail made of a copy matches one made of the source:
``tests/thumbnails/test_copies.py`` checks PSNR >= 40 dB, before encoding,
against a full decode of the original resized by Pillow's Lanczos, in seven
sizes from 64 to 1024, landscape, portrait and EXIF-rotated (measured
46-56 dB; the direct path 45-51).

Bounds: a copy of at most ``MAX_COPY_BYTES`` (a larger one, of a panorama,
is used once and not made again), at most ``MAX_COPIES`` of them in
``MAX_BYTES`` in all, least recently used evicted first, each dropped after
``IDLE`` seconds unused, all dropped when the thumbnailer closes.

Removed with the file: the process that deletes a file, deletes its session
or uploads it again drops that file's copies (``forget``) at once, with the
stored thumbnails. Other gateway processes sharing the storage cannot be
told, and need not be: copies are keyed by the source's key and etag, so a
re-upload (new etag) never meets an old copy (which each process drops as
soon as it is asked for the new version), and a deleted file's copy can no
longer be asked for (every thumbnail request reads the file's etag first)
and goes by eviction or idleness, within the bounds above. Nothing is
written to storage: each gateway process keeps its own (a copy in storage
would be encoded and decoded again, or 4.5 MiB of raw pixels written per
source; not measured).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from .images import Decoded

MAX_COPY_BYTES = 8 * 1024 * 1024
MAX_BYTES = 64 * 1024 * 1024
MAX_COPIES = 32
IDLE = 300.0
#: Source versions remembered as asked for once (a key and an etag each).
MAX_SEEN = 4096

Version = tuple[str, str]


class Copies:
    """The copies of one thumbnailer; used on the event loop only."""

    def __init__(
        self,
        max_bytes: int = MAX_BYTES,
        max_count: int = MAX_COPIES,
        max_copy_bytes: int = MAX_COPY_BYTES,
        idle: float = IDLE,
    ) -> None:
        self._max_bytes = max_bytes
        self._max_count = max_count
        self._max_copy_bytes = max_copy_bytes
        self._idle = idle
        #: Per source version, its copy and when it was last used (monotonic).
        self._copies: OrderedDict[Version, tuple[Decoded, float]] = OrderedDict()
        #: Source versions asked for, and whether a copy is worth making of them.
        self._seen: OrderedDict[Version, bool] = OrderedDict()
        self._bytes = 0
        self._sweep: asyncio.TimerHandle | None = None

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._copies)

    def get(self, key: str, etag: str) -> Decoded | None:
        entry = self._copies.get((key, etag))
        if entry is None:
            return None
        self._copies[(key, etag)] = (entry[0], time.monotonic())
        self._copies.move_to_end((key, etag))
        return entry[0]

    def wanted(self, key: str, etag: str) -> bool:
        """Whether a copy of this source version is worth making: it was
        asked for before (it is from now on), and its copy is not too large."""
        version = (key, etag)
        if version in self._seen:
            self._seen.move_to_end(version)
            return self._seen[version]
        self._drop_other_versions(key, etag)
        self._seen[version] = True
        if len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)
        return False

    def add(self, key: str, etag: str, copy: Decoded) -> None:
        """Keep ``copy`` of that source version, if it is small enough."""
        if copy.nbytes > self._max_copy_bytes:
            self._seen[(key, etag)] = False  # made for nothing once: not again
            return
        self._drop_other_versions(key, etag)
        self._remove((key, etag))
        self._copies[(key, etag)] = (copy, time.monotonic())
        self._bytes += copy.nbytes
        while len(self._copies) > self._max_count or self._bytes > self._max_bytes:
            self._remove(next(iter(self._copies)))
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self._idle, self._drop_idle)

    def forget(self, source: Callable[[str], bool]) -> None:
        """Drop every version of the sources whose key ``source`` matches."""
        for version in [version for version in self._copies if source(version[0])]:
            self._remove(version)
        for version in [version for version in self._seen if source(version[0])]:
            del self._seen[version]

    def clear(self) -> None:
        self._copies.clear()
        self._seen.clear()
        self._bytes = 0
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _drop_other_versions(self, key: str, etag: str) -> None:
        for version in [version for version in self._copies if version[0] == key and version[1] != etag]:
            self._remove(version)

    def _remove(self, version: Version) -> None:
        entry = self._copies.pop(version, None)
        if entry is not None:
            self._bytes -= entry[0].nbytes

    def _drop_idle(self) -> None:
        self._sweep = None
        now = time.monotonic()
        for version, (_, used) in list(self._copies.items()):
            if now - used >= self._idle:
                self._remove(version)
        if self._copies:
            oldest = min(used for _, used in self._copies.values())
            self._sweep = asyncio.get_running_loop().call_later(oldest + self._idle - now, self._drop_idle)
