"""Upload and download throughput through the gateway on S3 vs straight to the
same SeaweedFS with aiobotocore, in the same run.

The direct client does what the gateway's backend does, with the same client
settings: a multipart upload of 8 MiB parts (sent one at a time) and one
streamed GET. Usage:
``python -m bench.s3_transfer [--size-mib 1024] [--rounds 3]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiobotocore.session import get_session

from backends.s3 import PART_SIZE, client_config
from tests.seaweedfs import BUCKET, SeaweedFS
from tests.server import free_port
from tests.test_streaming import memory_kib

from .transfer import CHUNK, cli, make_source, report, start, timed_download, timed_upload, wait_ready


async def direct_upload(client, key: str, path: Path) -> float:  # noqa: ANN001
    started = time.perf_counter()
    upload_id = (await client.create_multipart_upload(Bucket=BUCKET, Key=key))["UploadId"]
    parts = []
    with path.open("rb") as file:
        while data := file.read(PART_SIZE):
            number = len(parts) + 1
            response = await client.upload_part(
                Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            parts.append({"PartNumber": number, "ETag": response["ETag"]})
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
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        folder = Path(tmp)
        source = make_source(folder, size)
        s3 = SeaweedFS(folder / "seaweedfs")
        s3.start()
        port = free_port()
        env = {**s3.environment(), "GATEWAY_MAX_UPLOAD_BYTES": str(2 * size)}
        storage = f"s3://{BUCKET}/gw?addressing_style=path"
        gateway = start([sys.executable, "-m", "gateway", "--storage", storage, "--port", str(port)], env)
        try:
            session = get_session()
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as http,
                session.create_client("s3", endpoint_url=s3.endpoint, region_name="us-east-1",
                                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                      config=client_config("path")) as client,
            ):  # fmt: skip
                gw = f"http://127.0.0.1:{port}"
                await wait_ready(http, f"{gw}/health")
                async with http.post(f"{gw}/api/sessions", json={"title": "bench"}) as response:
                    files = f"{gw}/api/sessions/{(await response.json())['id']}/files"
                rss_before = memory_kib(gateway.pid, "VmRSS")
                times: dict[str, list[float]] = {k: [] for k in ("gw up", "s3 up", "gw down", "s3 down")}
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
                            times[name].append(await step)
                growth = (memory_kib(gateway.pid, "VmHWM") - rss_before) / 1024
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
            s3.stop()

    report(f"S3 (SeaweedFS), {size / 2**20:.0f} MiB x {rounds} rounds", size, times, "s3", growth)


if __name__ == "__main__":
    cli(__doc__, run)
