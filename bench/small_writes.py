"""Small writes through the gateway on S3 against one S3 PUT of the same
bytes, straight to the same SeaweedFS with aiobotocore, in the same run.

Each round sends, in an order that alternates between rounds, one direct
PUT of 1 KiB, one Letta upload of 1 KiB of text (``POST
/v1/folders/{id}/upload``), one direct PUT of a session record's bytes and
one session create (``POST /api/sessions``); every request is sent alone,
so each figure is one answer's latency. Beside them, six direct PUTs of 1
KiB sent at once: what an upload's writes would cost if they were all one
round. Medians and spreads per kind, the two ratios the issue sets (gateway
/ direct PUT, target at most 2), and six at once / one.
Usage: ``python -m bench.small_writes [--rounds 200] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.seaweedfs import BUCKET

from .transfer import s3_rig

TEXT = (b"A small note of text, as agents upload them.\n" * 23)[:1024]
SESSION = {"title": "bench"}
#: About what the gateway stores for ``SESSION``.
RECORD = json.dumps(
    {
        "id": "00000000-0000-0000-0000-000000000000",
        "title": "bench",
        "sessionType": "main",
        "browserMode": "local-browser-service",
        "createdAt": "2026-01-01T00:00:00.000000Z",
        "userMessageCount": 0,
        "assistantMessageCount": 0,
        "toolCallCount": 0,
        "promptTokens": 0,
        "completionTokens": 0,
        "cost": 0.0,
        "promptMode": "default",
    }
).encode()


#: The ratios the issue sets a target for (at most 2).
TARGETS = ("letta upload / put", "session create / put")


async def timed(step) -> float:  # noqa: ANN001
    started = time.perf_counter()
    await step()
    return time.perf_counter() - started


async def run(rounds: int, gateway_env: dict[str, str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-small-") as tmp:
        async with s3_rig(Path(tmp), gateway_env) as rig:
            http, client, gw = rig.http, rig.client, rig.url
            async with http.post(f"{gw}/v1/folders/", json={"name": "bench"}) as response:
                upload = f"{gw}/v1/folders/{(await response.json())['id']}/upload"
            n = 0

            async def direct(data: bytes, copy: int = 0) -> None:
                await client.put_object(Bucket=BUCKET, Key=f"direct/{n}-{len(data)}-{copy}", Body=data)

            async def six_at_once() -> None:  # keys of their own, not the single PUT's
                await asyncio.gather(*(direct(TEXT, copy) for copy in range(1, 7)))

            async def letta_upload() -> None:
                form = aiohttp.FormData()
                form.add_field("file", TEXT, filename=f"note-{n}.txt", content_type="text/plain")
                async with http.post(upload, data=form) as response:
                    assert response.status == 200, await response.text()

            async def session_create() -> None:
                async with http.post(f"{gw}/api/sessions", json=SESSION) as response:
                    assert response.status == 201, await response.text()

            steps = {
                "s3 put 1 KiB": lambda: direct(TEXT),
                "letta upload": letta_upload,
                "s3 put record": lambda: direct(RECORD),
                "session create": session_create,
                "s3 6 puts at once": six_at_once,
            }
            for step in steps.values():  # warm up connections and code paths
                await step()
            times: dict[str, list[float]] = {name: [] for name in steps}
            for n in range(rounds):
                order = list(steps.items())
                for name, step in order[:: -1 if n % 2 else 1]:
                    times[name].append(await timed(step))
    median = {name: statistics.median(samples) * 1000 for name, samples in times.items()}
    for name, samples in times.items():
        ms = sorted(s * 1000 for s in samples)
        p10, p90 = ms[len(ms) // 10], ms[9 * len(ms) // 10]
        print(f"  {name:17} median {median[name]:6.2f} ms  (p10 {p10:.2f}, p90 {p90:.2f})")
    ratios = {
        "letta upload / put": median["letta upload"] / median["s3 put 1 KiB"],
        "session create / put": median["session create"] / median["s3 put record"],
        "6 puts at once / put": median["s3 6 puts at once"] / median["s3 put 1 KiB"],
    }
    for name, ratio in ratios.items():
        print(f"  {name:22} {ratio:.2f}" + ("  (target <= 2)" if name in TARGETS else ""))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="the gateway's processing workers")
    args = parser.parse_args()
    gateway_env = {"GATEWAY_PROCESSING_WORKERS": str(args.workers)}
    runs = []
    for number in range(args.runs):
        print(f"run {number + 1} of {args.runs}, {args.rounds} rounds:")
        runs.append(asyncio.run(run(args.rounds, gateway_env)))
    if args.runs > 1:
        for name in runs[0]:
            values = sorted(r[name] for r in runs)
            print(f"{name}: median of runs {statistics.median(values):.2f}, spread {values[0]:.2f}-{values[-1]:.2f}")


if __name__ == "__main__":
    main()
