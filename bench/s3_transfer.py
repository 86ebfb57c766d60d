"""Upload and download throughput through the gateway on S3 vs straight to the
same SeaweedFS with aiobotocore, in the same run.

The direct client does what the gateway's backend does, with the same client
settings (``client_config``): a multipart upload of ``PART_SIZE`` parts,
``PARTS_IN_FLIGHT`` at once, and one streamed GET. Rounds alternate who goes
first. Besides throughput, the CPU time each process spent on each transfer
is printed: on a machine shared with other work, throughput follows whatever
else runs, CPU seconds much less. Usage:
``python -m bench.s3_transfer [--size-mib 1024] [--rounds 3]``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

from backends.s3 import PART_SIZE, PARTS_IN_FLIGHT
from tests.seaweedfs import BUCKET
from tests.test_streaming import memory_kib

from .transfer import CHUNK, cli, cpu_seconds, make_source, report, s3_rig, timed_download, timed_upload


async def direct_upload(client, key: str, path: Path) -> float:  # noqa: ANN001
    """A multipart upload as the backend sends it: parts of PART_SIZE,
    PARTS_IN_FLIGHT of them at once, each read from the file when a
    place is free."""
    started = time.perf_counter()
    upload_id = (await client.create_multipart_upload(Bucket=BUCKET, Key=key))["UploadId"]
    etags: dict[int, str] = {}
    places = asyncio.Semaphore(PARTS_IN_FLIGHT)

    async def send(number: int, data: bytes) -> None:
        try:
            response = await client.upload_part(
                Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            etags[number] = response["ETag"]
        finally:
            places.release()

    async with asyncio.TaskGroup() as group:
        with path.open("rb") as file:
            for number in itertools.count(1):
                await places.acquire()
                if not (data := file.read(PART_SIZE)):
                    break
                group.create_task(send(number, data))
    parts = [{"PartNumber": number, "ETag": etag} for number, etag in sorted(etags.items())]
    await client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    return time.perf_counter() - started


async def direct_download(client, key: str, size: int) -> float:  # noqa: ANN001
    started = time.perf_counter()
    received = 0
    response = await client.get_object(Bucket=BUCKET, Key=key)
    async with response["Body"] as body:
        while chunk := await body.read(CHUNK):
            received += len(chunk)
    assert received == size
    return time.perf_counter() - started


async def run(size: int, rounds: int) -> None:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        folder = Path(tmp)
        source = make_source(folder, size)
        async with s3_rig(folder, {"GATEWAY_MAX_UPLOAD_BYTES": str(2 * size)}, timeout=900) as rig:
            http, client, gw, gateway, s3 = rig.http, rig.client, rig.url, rig.gateway, rig.s3
            async with http.post(f"{gw}/api/sessions", json={"title": "bench"}) as response:
                files = f"{gw}/api/sessions/{(await response.json())['id']}/files"
            rss_before = memory_kib(gateway.pid, "VmRSS")
            names = ("gw up", "s3 up", "gw down", "s3 down")
            times: dict[str, list[float]] = {name: [] for name in names}
            #: CPU seconds of (gateway, SeaweedFS, this client) per step.
            cpu: dict[str, list[tuple[float, ...]]] = {name: [] for name in names}
            pids = (gateway.pid, s3._process.pid)  # type: ignore[union-attr]
            for n in range(rounds):
                # New keys each round and no deletes (SeaweedFS reclaims
                # space in the background, which would slow whoever is next).
                # Who goes first alternates: SeaweedFS's own pace drifts.
                gw_name, s3_key = f"{n}.bin", f"direct/{n}.bin"
                ups = [
                    ("gw up", timed_upload(http, f"{files}/upload", source, gw_name)),
                    ("s3 up", direct_upload(client, s3_key, source)),
                ]
                downs = [
                    ("gw down", timed_download(http, f"{files}/{gw_name}", size)),
                    ("s3 down", direct_download(client, s3_key, size)),
                ]
                order = slice(None, None, -1 if n % 2 else 1)
                for steps in (ups, downs):
                    for name, step in steps[order]:
                        before = (*map(cpu_seconds, pids), time.process_time())
                        times[name].append(await step)
                        after = (*map(cpu_seconds, pids), time.process_time())
                        cpu[name].append(tuple(b - a for a, b in zip(before, after, strict=True)))
            growth = (memory_kib(gateway.pid, "VmHWM") - rss_before) / 1024

    report(f"S3 (SeaweedFS), {size / 2**20:.0f} MiB x {rounds} rounds", size, times, "s3", growth)
    for direction in ("up", "down"):
        ratios = [s3 / gw for gw, s3 in zip(times[f"gw {direction}"], times[f"s3 {direction}"], strict=True)]
        print(f"  {direction:>4}load ratio by round: " + " ".join(f"{r:.2f}" for r in ratios))
    print("  CPU seconds per GiB (median): gateway + SeaweedFS + client = all")
    for name in names:
        gateway_s, weed_s, client_s = (statistics.median(run[i] for run in cpu[name]) * 2**30 / size for i in range(3))
        print(f"  {name:>9}: {gateway_s:5.2f} + {weed_s:5.2f} + {client_s:5.2f} = {gateway_s + weed_s + client_s:5.2f}")
    print(f"  load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    cli(__doc__, run)
