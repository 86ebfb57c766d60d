"""The thumbnailer on its own: its backlog, sources replaced under it, and
closing with thumbnails under way."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable

import pytest
from PIL import Image

from backends import ObjectChanged
from backends.base import Blob
from backends.memory import MemoryBackend
from gateway.thumbnails import Busy, Thumbnailer
from gateway.thumbnails.spec import ThumbSpec

from .media import encode, gradient

SPEC = ThumbSpec("w", 100)


class GatedStorage(MemoryBackend):
    """Memory storage whose sources open once ``gate`` is set, so that a
    thumbnail stays under way for as long as a test needs."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    @contextlib.asynccontextmanager
    async def _open(self, key: str) -> AsyncIterator[Blob]:
        if not key.startswith("thumbs/"):
            await self.gate.wait()
        async with super()._open(key) as blob:
            yield blob


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


@pytest.fixture
async def storage() -> GatedStorage:
    storage = GatedStorage()
    await storage.put_bytes("a.jpg", encode(gradient(300, 200), "JPEG"))
    await storage.put_bytes("b.jpg", encode(gradient(300, 200, "L"), "JPEG"))
    return storage


@pytest.fixture
async def made(storage: GatedStorage) -> AsyncIterator[tuple[Thumbnailer, list[float]]]:
    generations: list[float] = []
    thumbnails = Thumbnailer(storage, max_pixels=50_000_000, observe=generations.append, timeout=30, backlog=1)
    yield thumbnails, generations
    await thumbnails.close()


async def read(thumbnails: Thumbnailer, storage: GatedStorage, name: str) -> bytes:
    async with thumbnails.open(await storage.stat(name), f"thumbs/{name}/", SPEC, None) as blob:
        return b"".join([chunk async for chunk in blob.stream()])


async def test_a_full_backlog_refuses_more_at_once(storage: GatedStorage, made: tuple) -> None:
    thumbnails, generations = made
    first = asyncio.ensure_future(read(thumbnails, storage, "a.jpg"))
    await until(lambda: thumbnails.in_progress == 1)
    with pytest.raises(Busy):
        await read(thumbnails, storage, "b.jpg")
    joined = asyncio.ensure_future(read(thumbnails, storage, "a.jpg"))  # the one under way, not one more
    storage.gate.set()
    assert await first == await joined
    assert Image.open(io.BytesIO(await first)).size == (100, 67)
    assert len(generations) == 1
    await until(lambda: thumbnails.in_progress == 0)  # stored: the backlog is empty again
    assert Image.open(io.BytesIO(await read(thumbnails, storage, "b.jpg"))).mode == "RGB"
    assert len(generations) == 2


async def test_a_source_replaced_since_its_stat_is_not_made(storage: GatedStorage, made: tuple) -> None:
    thumbnails, generations = made
    storage.gate.set()
    old = await storage.stat("a.jpg")
    await storage.put_bytes("a.jpg", encode(gradient(200, 300), "JPEG"))
    with pytest.raises(ObjectChanged):
        async with thumbnails.open(old, "thumbs/a.jpg/", SPEC, None):
            pass
    await until(lambda: thumbnails.in_progress == 0)
    assert (generations, await storage.list("thumbs/")) == ([], [])


async def test_closing_drops_thumbnails_under_way(storage: GatedStorage, made: tuple) -> None:
    thumbnails, generations = made
    first = asyncio.ensure_future(read(thumbnails, storage, "a.jpg"))
    await until(lambda: thumbnails.in_progress == 1)
    async with asyncio.timeout(10):
        await thumbnails.close()
    assert thumbnails.in_progress == 0
    with pytest.raises(asyncio.CancelledError):
        await first
    storage.gate.set()
    await asyncio.sleep(0.05)
    assert (generations, await storage.list("thumbs/")) == ([], [])
