"""Listings against their floor: one listing of the keys involved plus
encoding the answer, measured in the same run.

- ``GET /api/sessions`` (every session), ``GET /api/sessions/{id}/files``
  (every file of one session) and folder pages ``GET /v1/folders/`` (50
  oldest first, the default; 50 newest first; 50 after a cursor in the
  middle; the largest page, 1000) with ``--items`` of each (10,000) and
  with 100, each size in its own storage root and its own gateway process.
- The data is written straight through the backend and the stores
  (``SessionStore.create``, ``put_bytes``, ``FolderStore.create_folder``):
  over HTTP it would take longer than the measurements.
- The floor, in this process on the same storage: the listing of the keys
  the answer covers (``sessions/``, the session's files, or one page of the
  folder index) with a backend of its own, plus ``json.dumps`` of the answer
  the gateway gave. A gateway request is also timed on ``/health``, the
  fixed cost of one HTTP round trip, printed beside the ratios.
- Rounds alternate floor and gateway, small and big, so the shared
  machine's noise hits both; medians and the spread (min-max of the
  per-round ratios) are printed. The first listing of the sessions (which
  reads every record and writes the first pack) and the first one of a
  freshly started gateway (which reads that pack) are timed on their own.

Usage: ``python -m bench.listings [--items 10000] [--rounds 15] [--s3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from backends import BaseBackend, backend_from_url
from gateway.folders.index import TimeIndex
from gateway.folders.models import CreateFolder
from gateway.folders.store import FolderStore
from gateway.sessions.models import CreateSession
from gateway.sessions.store import FILES, RECORDS, SessionStore
from tests.seaweedfs import BUCKET, SeaweedFS
from tests.server import free_port

from .transfer import start, wait_ready

SMALL, SEED_CONCURRENCY = 100, 32


async def bounded(count: int, make: Callable[[int], Awaitable[object]]) -> list:
    numbers, done = iter(range(count)), []

    async def worker() -> None:
        for n in numbers:
            done.append(await make(n))

    await asyncio.gather(*(worker() for _ in range(SEED_CONCURRENCY)))
    return done


async def seed(storage: BaseBackend, count: int) -> dict[str, str]:
    """``count`` sessions, one more with ``count`` files, ``count`` folders;
    the ids the measured requests need."""
    started = time.perf_counter()
    sessions = SessionStore(storage)
    await bounded(count - 1, lambda n: sessions.create(CreateSession(title=f"session {n}")))
    holder = await sessions.create(CreateSession(title="files"))
    await bounded(count, lambda n: storage.put_bytes(f"{FILES}{holder.id}/file-{n:05d}.txt", b"x" * 100))
    folders = FolderStore(storage)
    made = await bounded(count, lambda n: folders.create_folder(CreateFolder(name=f"folder {n}")))
    created, middle = sorted((f.created_at, f.id) for f in made)[count // 2]
    print(f"seeded {count} sessions, files, folders in {time.perf_counter() - started:.1f} s")
    # The floor lists the index after the cursor's key, as a page does.
    key = TimeIndex(storage, "folder-index/").key("asc", created, middle)
    return {"session": holder.id, "middle": middle, "middle key": key}


def requests(ids: dict[str, str]) -> dict[str, tuple[str, Callable[[BaseBackend], Awaitable[int]]]]:
    """What is measured: its path and the floor's listing (answering how
    many keys it listed)."""

    async def every(storage: BaseBackend, prefix: str) -> int:
        return len([entry async for entry in storage.iter_all(prefix)])

    async def page(storage: BaseBackend, order: str, limit: int, after: str = "") -> int:
        return len(await storage.list(f"folder-index/{order}/", start_after=after, limit=limit))

    async def after_middle(storage: BaseBackend) -> int:
        return await page(storage, "asc", 50, ids["middle key"])

    return {
        "sessions": ("/api/sessions", lambda s: every(s, RECORDS)),
        "files": (f"/api/sessions/{ids['session']}/files", lambda s: every(s, f"{FILES}{ids['session']}/")),
        "folders 50 asc": ("/v1/folders/", lambda s: page(s, "asc", 50)),
        "folders 50 desc": ("/v1/folders/?order=desc", lambda s: page(s, "desc", 50)),
        "folders after": (f"/v1/folders/?after={ids['middle']}", after_middle),
        "folders 1000": ("/v1/folders/?limit=1000", lambda s: page(s, "asc", 1000)),
    }


async def timed_get(http: aiohttp.ClientSession, url: str) -> tuple[float, object]:
    started = time.perf_counter()
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    return time.perf_counter() - started, body


async def timed_floor(storage: BaseBackend, listing: Callable[[BaseBackend], Awaitable[int]], answer: object) -> float:
    started = time.perf_counter()
    await listing(storage)
    json.dumps(answer)
    return time.perf_counter() - started


class Side:
    """One size: its storage, its gateway, what it answers."""

    def __init__(self, storage_url: str) -> None:
        self.storage_url = storage_url
        self.storage = backend_from_url(storage_url)
        self.gateway: subprocess.Popen | None = None
        self.base = ""

    def start_gateway(self) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.gateway = start([sys.executable, "-m", "gateway", "--storage", self.storage_url, "--port", str(port)])

    def stop_gateway(self) -> None:
        if self.gateway is not None:
            self.gateway.terminate()
            self.gateway.wait(timeout=30)
            self.gateway = None


async def run(items: int, rounds: int, use_s3: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-listings-") as tmp:
        s3 = None
        if use_s3:
            s3 = SeaweedFS(Path(tmp) / "seaweedfs")
            s3.start()
            os.environ.update(s3.environment())  # for this process's backends and the gateways
            urls = {size: f"s3://{BUCKET}/{size}?addressing_style=path" for size in ("small", "big")}
        else:
            urls = {size: f"file://{tmp}/{size}" for size in ("small", "big")}
        sides = {size: Side(url) for size, url in urls.items()}
        try:
            await measure(sides, {"small": SMALL, "big": items}, rounds)
        finally:
            for side in sides.values():
                side.stop_gateway()
                await side.storage.close()
            if s3 is not None:
                s3.stop()
    print(f"({'S3 (SeaweedFS)' if use_s3 else 'local disk'})")


async def measure(sides: dict[str, Side], counts: dict[str, int], rounds: int) -> None:
    ids, measured = {}, {}
    for size, side in sides.items():
        await side.storage.start()
        ids[size] = await seed(side.storage, counts[size])
        measured[size] = requests(ids[size])
    os.sync()  # no writeback of the seeding left to slow down the measurements
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
        first: dict[str, list[float]] = {"first listing (packs)": [], "first after a restart": []}
        for side in sides.values():
            side.start_gateway()
            await wait_ready(http, f"{side.base}/health")
        for size in ("small", "big"):
            first["first listing (packs)"].append((await timed_get(http, sides[size].base + "/api/sessions"))[0])
        for side in sides.values():
            side.stop_gateway()
            side.start_gateway()
            await wait_ready(http, f"{side.base}/health")
        for size in ("small", "big"):
            first["first after a restart"].append((await timed_get(http, sides[size].base + "/api/sessions"))[0])
        names = list(measured["big"])
        answers = {}
        for size in ("small", "big"):  # warm up: connections, caches
            for name in names:
                answers[size, name] = (await timed_get(http, sides[size].base + measured[size][name][0]))[1]
        gateway: dict[tuple[str, str], list[float]] = {(s, n): [] for s in sides for n in names}
        floor: dict[tuple[str, str], list[float]] = {(s, n): [] for s in sides for n in names}
        health: list[float] = []
        for r in range(rounds):
            for name in names:
                for size in ("small", "big")[:: -1 if r % 2 else 1]:
                    side, (path, listing) = sides[size], measured[size][name]
                    if r % 2:
                        gateway[size, name].append((await timed_get(http, side.base + path))[0])
                        floor[size, name].append(await timed_floor(side.storage, listing, answers[size, name]))
                    else:
                        floor[size, name].append(await timed_floor(side.storage, listing, answers[size, name]))
                        gateway[size, name].append((await timed_get(http, side.base + path))[0])
            health.append((await timed_get(http, sides["big"].base + "/health"))[0])
    print(f"\nmedian of {rounds} rounds, ms; ratio = gateway / floor (median, and min-max over rounds)")
    print(f"{'':<18}{'items':>7}{'answer':>7}{'floor':>9}{'gateway':>9}{'ratio':>7}   spread")
    for name in names:
        for size in ("small", "big"):
            g, f = gateway[size, name], floor[size, name]
            ratios = [a / b for a, b in zip(g, f, strict=True)]
            count = len(answers[size, name])  # type: ignore[arg-type]
            times = f"{statistics.median(f) * 1000:9.1f}{statistics.median(g) * 1000:9.1f}"
            spread = f"{statistics.median(ratios):7.2f}   {min(ratios):.2f}-{max(ratios):.2f}"
            print(f"{name:<18}{counts[size]:>7}{count:>7}{times}{spread}")
    print(f"one HTTP round trip (/health): {statistics.median(health) * 1000:.2f} ms")
    for label, (small, big) in first.items():
        print(f"sessions, {label}: {small * 1000:.0f} ms ({counts['small']}), {big * 1000:.0f} ms ({counts['big']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--s3", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.items, args.rounds, args.s3))


if __name__ == "__main__":
    main()
