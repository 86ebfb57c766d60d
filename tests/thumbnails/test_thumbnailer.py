"""The thumbnailer on its own: the bound on thumbnails waiting or being made."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import pytest
from PIL import Image

from backends.memory import MemoryBackend
from gateway.thumbnails import Busy, Thumbnailer
from gateway.thumbnails.spec import ThumbSpec

from .media import encode, gradient


async def test_a_full_backlog_refuses_more_at_once() -> None:
    storage = MemoryBackend()
    for name in ("a.jpg", "b.jpg"):
        await storage.put_bytes(name, encode(gradient(3000, 2000), "JPEG"))
    thumbnails = Thumbnailer(storage, max_pixels=50_000_000, observe=lambda _: None, timeout=30, backlog=1)

    async def read(name: str) -> bytes:
        async with thumbnails.open(await storage.stat(name), f"thumbs/{name}/", ThumbSpec("w", 100), None) as blob:
            return b"".join([chunk async for chunk in blob.stream()])

    async def until(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():
                await asyncio.sleep(0.001)

    try:
        first = asyncio.ensure_future(read("a.jpg"))
        await until(lambda: thumbnails.in_progress == 1)
        with pytest.raises(Busy):
            await read("b.jpg")
        joined = await read("a.jpg")  # the same thumbnail joins the one being made
        assert await first == joined
        assert Image.open(io.BytesIO(joined)).size == (100, 67)
        await until(lambda: thumbnails.in_progress == 0)  # stored: the backlog is empty again
        assert Image.open(io.BytesIO(await read("b.jpg"))).size == (100, 67)
    finally:
        thumbnails.close()
