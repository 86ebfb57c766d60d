"""A 1 GiB upload and download, and a 256 MiB folder file processed, through
a real gateway process on local disk, with the server's memory checked to
stay bounded (nothing is buffered whole)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from .process import GatewayProcess

SIZE = 1024**3
BLOCK = 1024 * 1024
MAX_GROWTH = 100 * 1024 * 1024
BOUNDARY = "streaming-test-boundary"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def memory_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GatewayProcess]:
    env = {
        "GATEWAY_MAX_UPLOAD_BYTES": str(2 * SIZE),
        # The folder test's 256 MiB of text is past the default limits of processing.
        "GATEWAY_PROCESSING_MAX_TEXT_BYTES": str(2 * SIZE),
        "GATEWAY_PROCESSING_TIMEOUT": "600",
    }
    with GatewayProcess(f"file://{tmp_path / 'data'}", env) as gateway:
        yield gateway


async def multipart_body(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
    block = bytearray(os.urandom(BLOCK))
    for index in range(size // BLOCK):
        block[:8] = index.to_bytes(8, "big")  # every block differs
        chunk = bytes(block)
        digest.update(chunk)
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_one_gib_round_trip_in_bounded_memory(server: GatewayProcess) -> None:
    url, pid = server.url, server.pid
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.post(f"{url}/api/sessions", json={"title": "big"}) as response:
            session_id = (await response.json())["id"]
        files = f"{url}/api/sessions/{session_id}/files"
        # Warm up every code path before taking the baseline.
        small = hashlib.sha256()
        async with http.post(f"{files}/upload", data=multipart_body(BLOCK, small), headers=MULTIPART) as response:
            assert response.status == 201
        async with http.get(f"{files}/big.bin") as response:
            await response.read()
        baseline = memory_kib(pid, "VmRSS")

        sent = hashlib.sha256()
        async with http.post(
            f"{files}/upload",
            data=multipart_body(SIZE, sent),
            headers=MULTIPART,
        ) as response:
            assert response.status == 201, await response.text()
            assert (await response.json())["size"] == SIZE

        received = hashlib.sha256()
        count = 0
        async with http.get(f"{files}/big.bin") as response:
            assert response.status == 200
            assert response.headers["Content-Length"] == str(SIZE)
            async for chunk in response.content.iter_chunked(BLOCK):
                received.update(chunk)
                count += len(chunk)
        assert count == SIZE
        assert received.hexdigest() == sent.hexdigest()

    growth = (memory_kib(pid, "VmHWM") - baseline) * 1024
    print(f"server RSS baseline {baseline / 1024:.1f} MiB, peak growth {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH


async def text_body(size: int) -> AsyncIterator[bytes]:
    """``size`` bytes of words, as a multipart text file."""
    yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'.encode()
    line = b" ".join(f"word{i}".encode() for i in range(100)) + b"\n"
    block = line * (BLOCK // len(line))
    for _ in range(size // len(block)):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_folder_upload_and_processing_in_bounded_memory(server: GatewayProcess) -> None:
    """A 256 MiB text file through the folder API, extracted and chunked as
    it streams: the server never holds it whole."""
    url, pid = server.url, server.pid
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
        async with http.post(f"{url}/v1/folders/", json={"name": "big"}) as response:
            folder = f"{url}/v1/folders/{(await response.json())['id']}"

        async def process(size: int) -> dict:
            async with http.post(f"{folder}/upload", data=text_body(size), headers=MULTIPART) as response:
                assert response.status == 200, await response.text()
                file_id = (await response.json())["id"]
            for _ in range(6000):  # 10 minutes at most
                async with http.get(f"{folder}/files/{file_id}") as response:
                    meta = await response.json()
                if meta["processing_status"] in ("completed", "error"):
                    return meta
                await asyncio.sleep(0.1)
            raise TimeoutError(meta["processing_status"])

        await process(BLOCK)  # warm up every code path before taking the baseline
        baseline = memory_kib(pid, "VmRSS")
        meta = await process(256 * BLOCK)
    assert meta["processing_status"] == "completed", meta["error_message"]
    assert meta["file_size"] >= 255 * BLOCK and meta["total_chunks"] > 100_000
    growth = (memory_kib(pid, "VmHWM") - baseline) * 1024
    print(f"server RSS baseline {baseline / 1024:.1f} MiB, peak growth {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH
