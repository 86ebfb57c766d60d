"""RangeReader: a file over ranged reads, so that a thumbnail of a large file
in memory or S3 reads only what the decoder asks for."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator

import av
from PIL import Image

from backends.base import Blob
from backends.memory import MemoryBackend
from gateway.thumbnails.ranges import BLOCK, RangeReader
from gateway.thumbnails.spec import parse_thumb
from gateway.thumbnails.videos import video_thumbnail

from ..backends.test_contract import chunks_of


class CountingBlob(Blob):
    """Counts the bytes a reader fetches from the blob it wraps."""

    def __init__(self, inner: Blob) -> None:
        self.info, self._inner, self.fetched = inner.info, inner, 0

    async def stream(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        async for chunk in self._inner.stream(start, end):
            self.fetched += len(chunk)
            yield chunk


async def in_thread(blob: Blob, work):  # noqa: ANN001, ANN201
    """Run ``work(reader)`` in a thread, as the thumbnailer does."""
    loop = asyncio.get_running_loop()
    return await asyncio.to_thread(lambda: work(io.BufferedReader(RangeReader(blob, loop))))


async def test_reads_and_seeks_like_a_file() -> None:
    data = os.urandom(3 * BLOCK + 123)
    store = MemoryBackend()
    await store.put("f", chunks_of(data))
    async with store.open("f") as blob:

        def work(reader: io.BufferedReader) -> list[bytes | int]:
            results: list[bytes | int] = [reader.read(10)]
            reader.seek(BLOCK - 5)
            results.append(reader.read(10))  # across two blocks
            results.append(reader.seek(-3, io.SEEK_END))
            results.append(reader.read())
            reader.seek(0)
            results.append(reader.read())
            return results

        first, across, end_position, tail, whole = await in_thread(blob, work)
    assert first == data[:10]
    assert across == data[BLOCK - 5 : BLOCK + 5]
    assert (end_position, tail) == (len(data) - 3, data[-3:])
    assert whole == data


def noisy_video(seconds: int = 8, fps: int = 10) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = fps * 2
        for _ in range(seconds * fps):
            noise = Image.frombytes("RGB", (320, 240), os.urandom(320 * 240 * 3))
            for packet in stream.encode(av.VideoFrame.from_image(noise)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


async def test_a_video_frame_reads_a_fraction_of_the_file() -> None:
    data = noisy_video()
    store = MemoryBackend()
    await store.put("clip.mp4", chunks_of(data))
    async with store.open("clip.mp4") as inner:
        blob = CountingBlob(inner)
        jpeg = await in_thread(blob, lambda reader: video_thumbnail(reader, parse_thumb("w64"), 1.0, 10**8))
    assert Image.open(io.BytesIO(jpeg)).size == (64, 48)
    assert len(data) > 8 * BLOCK
    assert blob.fetched < len(data) / 2, (blob.fetched, len(data))
