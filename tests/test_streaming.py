"""A 1 GiB upload and download through a real gateway process on local disk,
with the server's memory checked to stay bounded (nothing is buffered whole)."""

from __future__ import annotations

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
    env = {"GATEWAY_MAX_UPLOAD_BYTES": str(2 * SIZE)}
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
