"""Upload and download throughput of the gateway vs a minimal aiohttp baseline.

Both servers run as their own processes on loopback and take the same file,
alternately, several times, each time as a new file; we print medians, the
gateway/baseline ratios and the gateway's peak RSS growth. The baseline
does not fsync; a second baseline run with fsync shows what durability costs
on this disk. Usage: ``python -m bench.transfer
[--size-mib 1024] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiobotocore.session import get_session

from backends.s3 import client_config
from tests.seaweedfs import BUCKET, SeaweedFS
from tests.server import free_port
from tests.test_streaming import memory_kib

CHUNK = 1024 * 1024
BOUNDARY = "bench-boundary"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def body(path: Path, name: str) -> AsyncIterator[bytes]:
    yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def timed_upload(http: aiohttp.ClientSession, url: str, path: Path, name: str) -> float:
    # Start each run with no dirty pages left by the previous one, whose
    # writeback would otherwise slow down whichever server comes next.
    os.sync()
    started = time.perf_counter()
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    async with http.post(url, data=body(path, name), headers=headers) as response:
        assert response.status == 201, await response.text()
    return time.perf_counter() - started


async def timed_download(http: aiohttp.ClientSession, url: str, size: int) -> float:
    started = time.perf_counter()
    received = 0
    async with http.get(url) as response:
        assert response.status == 200
        async for chunk in response.content.iter_chunked(CHUNK):
            received += len(chunk)
    assert received == size
    return time.perf_counter() - started


def make_source(folder: Path, size: int) -> Path:
    """The file every run sends: ``size`` bytes of one random MiB repeated."""
    source = folder / "source.bin"
    with source.open("wb") as file:
        block = os.urandom(CHUNK)
        for _ in range(size // CHUNK):
            file.write(block)
    return source


async def run(size: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        source = make_source(folder, size)
        gateway_port, baseline_port = free_port(), free_port()
        (folder / "baseline").mkdir()
        gateway = start(
            [sys.executable, "-m", "gateway", "--storage", f"file://{folder / 'gateway'}", "--port", str(gateway_port)],
            {"GATEWAY_MAX_UPLOAD_BYTES": str(2 * size)},
        )
        baseline = start([sys.executable, "-m", "bench.baseline_server", str(folder / "baseline"), str(baseline_port)])
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
                gw, base = f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{baseline_port}"
                await wait_ready(http, f"{gw}/health")
                await wait_ready(http, f"{base}/health")
                async with http.post(f"{gw}/api/sessions", json={"title": "bench"}) as response:
                    files = f"{gw}/api/sessions/{(await response.json())['id']}/files"
                rss_before = memory_kib(gateway.pid, "VmRSS")
                times: dict[str, list[float]] = {
                    k: [] for k in ("gw up", "baseline up", "fsync up", "gw down", "baseline down")
                }
                for n in range(rounds):
                    # Each round writes new files, as both servers do for a
                    # new upload, and removes the last round's untimed.
                    times["gw up"].append(await timed_upload(http, f"{files}/upload", source, f"{n}.bin"))
                    times["baseline up"].append(await timed_upload(http, f"{base}/upload", source, f"{n}.bin"))
                    times["fsync up"].append(
                        await timed_upload(http, f"{base}/upload?fsync=1", source, f"{n}-fsync.bin")
                    )
                    times["gw down"].append(await timed_download(http, f"{files}/{n}.bin", size))
                    times["baseline down"].append(await timed_download(http, f"{base}/download/{n}.bin", size))
                    async with http.delete(f"{files}/{n}.bin") as response:
                        assert response.status == 204
                    for name in (f"{n}.bin", f"{n}-fsync.bin"):
                        (folder / "baseline" / name).unlink()
                growth = (memory_kib(gateway.pid, "VmHWM") - rss_before) / 1024
        finally:
            for process in (gateway, baseline):
                process.terminate()
                process.wait(timeout=30)

    median = report(f"Local disk, {size / 2**20:.0f} MiB x {rounds} rounds", size, times, "baseline", growth)
    mib = size / 2**20
    durable = mib / median["fsync up"]
    print(f"  upload vs baseline+fsync: {durable:7.0f}  ratio {mib / median['gw up'] / durable:.2f}")


def report(title: str, size: int, times: dict[str, list[float]], baseline: str, growth: float) -> dict[str, float]:
    """Print medians in MiB/s, gateway/baseline ratios and every run; return the medians."""
    mib = size / 2**20
    median = {name: statistics.median(samples) for name, samples in times.items()}
    print(f"{title}, medians (MiB/s):")
    for direction in ("up", "down"):
        gateway, other = mib / median[f"gw {direction}"], mib / median[f"{baseline} {direction}"]
        print(f"  {direction:>4}load: gateway {gateway:7.0f}  {baseline} {other:7.0f}  ratio {gateway / other:.2f}")
    print(f"  gateway peak RSS growth: {growth:.1f} MiB")
    for name, samples in times.items():
        print(f"  {name:>9} runs (s): " + " ".join(f"{t:.2f}" for t in samples))
    return median


def cli(doc: str, run: Callable[[int, int], Awaitable[None]]) -> None:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.size_mib * 2**20, args.rounds))


if __name__ == "__main__":
    cli(__doc__, run)


@dataclass
class S3Rig:
    """A SeaweedFS, a gateway process on it, and the two clients a bench
    compares: HTTP to the gateway, aiobotocore straight to the same S3."""

    s3: SeaweedFS
    gateway: subprocess.Popen
    url: str
    http: aiohttp.ClientSession
    client: Any


@contextlib.asynccontextmanager
async def s3_rig(folder: Path, gateway_env: Mapping[str, str], timeout: float = 300) -> AsyncIterator[S3Rig]:
    """Everything started in ``folder``, the gateway ready; all stopped after.
    ``timeout``: of each HTTP request, in seconds (aiohttp's default)."""
    s3 = SeaweedFS(folder / "seaweedfs")
    s3.start()
    port = free_port()
    env = {**s3.environment(), **gateway_env}
    storage = f"s3://{BUCKET}/gw?addressing_style=path"
    gateway = start([sys.executable, "-m", "gateway", "--storage", storage, "--port", str(port)], env)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
            get_session().create_client("s3", endpoint_url=s3.endpoint, region_name="us-east-1",
                                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                        config=client_config("path")) as client,
        ):  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            await wait_ready(http, f"{url}/health")
            yield S3Rig(s3, gateway, url, http, client)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
        s3.stop()
