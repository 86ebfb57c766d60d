"""Folder files API: list-page latency in a big folder vs a small one, and
the time from upload to processing completed.

- Pages of 50 (newest first, ``order=asc``, and ``after`` a cursor in the
  middle) in a folder of 10,000 files vs one of 100, same gateway, same
  run, requests alternated; the small folder is the baseline (target: the
  big one at most 2x slower). The files are seeded in this process through
  ``FolderStore.add_file`` on the gateway's storage, then the gateway
  process is started on it.
- A 10 MB text file of random words and a 100-page PDF, each uploaded and
  then polled every 20 ms until ``completed`` (so up to 20 ms late), by the
  gateway's default 2 processing workers and no embedder; printed: seconds
  until the upload is answered and until completed.

Usage: ``python -m bench.folders [--files 10000] [--rounds 30] [--s3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import string
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from fpdf import FPDF

from backends import backend_from_url
from gateway.folders.jobs import JOBS
from gateway.folders.models import CreateFolder
from gateway.folders.store import FolderStore
from tests.seaweedfs import BUCKET, SeaweedFS
from tests.server import free_port

from .transfer import BOUNDARY, body, start, wait_ready

SMALL, SEED_CONCURRENCY, POLL_SECONDS = 100, 32, 0.02
TEXT_BYTES, PDF_PAGES, UPLOAD_ROUNDS = 10_000_000, 100, 3
VARIANTS = {"desc (default)": "", "order=asc": "&order=asc", "after=middle": "&after={middle}"}


def words(rng: random.Random, count: int, vocabulary: list[str]) -> str:
    return " ".join(rng.choices(vocabulary, k=count))


def make_sources(folder: Path) -> tuple[Path, Path]:
    rng = random.Random(0)  # the same files every run
    vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(5000)]
    text = folder / "words.txt"
    lines = "\n".join(words(rng, 12, vocabulary) for _ in range(TEXT_BYTES // 60))
    text.write_bytes(lines.encode()[:TEXT_BYTES])
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for _ in range(PDF_PAGES):
        pdf.add_page()
        for _ in range(4):
            pdf.multi_cell(0, 5, words(rng, 80, vocabulary).capitalize() + ".")
            pdf.ln(3)
    assert pdf.pages_count == PDF_PAGES  # the paragraphs fit: no page overflowed
    document = folder / "document.pdf"
    pdf.output(str(document))
    return text, document


async def one_line(n: int) -> AsyncIterator[bytes]:
    yield f"file {n}\n".encode()


async def seed_folder(store: FolderStore, name: str, count: int) -> tuple[str, str]:
    """A folder of ``count`` small files: its id and the id in the middle of
    its listing (the ``after`` cursor)."""
    folder = await store.create_folder(CreateFolder(name=name))
    numbers, files = iter(range(count)), []

    async def worker() -> None:
        for n in numbers:
            meta, _ = await store.add_file(folder.id, f"{n}.txt", "text/plain", one_line(n), "suffix")
            files.append((meta.created_at, meta.id))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(SEED_CONCURRENCY)))
    print(f"seeded {count} files in {time.perf_counter() - started:.1f} s")
    return folder.id, sorted(files)[count // 2][1]


async def seed(storage_url: str, sizes: dict[str, int]) -> dict[str, tuple[str, str]]:
    """Seed the folders straight into storage: uploads over HTTP would take
    much longer than the measurements."""
    storage = backend_from_url(storage_url)
    await storage.start()
    try:
        store = FolderStore(storage)
        seeded = {name: await seed_folder(store, name, count) for name, count in sizes.items()}
        # add_file queued every file for processing; drop the jobs so the
        # gateway does not spend the measurements processing 10,000 files.
        await storage.delete_prefix(JOBS)
    finally:
        await storage.close()
    return seeded


async def timed_page(http: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        assert len(await response.json()) == 50
    return time.perf_counter() - started


async def upload_to_completed(http: aiohttp.ClientSession, folder: str, path: Path, name: str) -> tuple[float, float]:
    """Seconds until the upload is answered and until processing completed."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    started = time.perf_counter()
    async with http.post(f"{folder}/upload", data=body(path, name), headers=headers) as response:
        assert response.status == 200, await response.text()
        file_id = (await response.json())["id"]
    uploaded = time.perf_counter() - started
    deadline = started + 600
    while time.perf_counter() < deadline:
        async with http.get(f"{folder}/files/{file_id}") as response:
            meta = await response.json()
        if meta["processing_status"] == "completed":
            return uploaded, time.perf_counter() - started
        if meta["processing_status"] == "error":
            raise RuntimeError(f"{name}: processing failed: {meta['error_message']}")
        await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"{name} still {meta['processing_status']} after 600 s")


async def run(files: int, rounds: int, use_s3: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-folders-") as tmp:
        folder = Path(tmp)
        text, document = make_sources(folder)
        pdf_mb = document.stat().st_size / 1e6
        s3, env = None, {}
        if use_s3:
            s3 = SeaweedFS(folder / "seaweedfs")
            s3.start()
            env = s3.environment()
            os.environ.update(env)  # the seeding backend in this process reads them too
            storage = f"s3://{BUCKET}/folders?addressing_style=path"
        else:
            storage = f"file://{folder / 'data'}"
        gateway = None
        try:
            seeded = await seed(storage, {"small": SMALL, "big": files})
            os.sync()  # no writeback of the seeding left to slow down the measurements
            port = free_port()
            gateway = start([sys.executable, "-m", "gateway", "--storage", storage, "--port", str(port)], env)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
                base = f"http://127.0.0.1:{port}"
                await wait_ready(http, f"{base}/health")
                urls = {
                    (variant, size): f"{base}/v1/folders/{folder_id}/files?limit=50" + query.format(middle=middle)
                    for size, (folder_id, middle) in seeded.items()
                    for variant, query in VARIANTS.items()
                }
                for url in urls.values():  # warm up: connection, caches
                    await timed_page(http, url)
                pages: dict[tuple[str, str], list[float]] = {key: [] for key in urls}
                for n in range(rounds):
                    # Alternate who goes first, so that drift hits both alike.
                    for variant in VARIANTS:
                        for size in ("small", "big")[:: -1 if n % 2 else 1]:
                            pages[variant, size].append(await timed_page(http, urls[variant, size]))

                async with http.post(f"{base}/v1/folders", json={"name": "uploads"}) as response:
                    uploads = f"{base}/v1/folders/{(await response.json())['id']}"
                processed: dict[str, list[tuple[float, float]]] = {"text": [], "pdf": []}
                for n in range(UPLOAD_ROUNDS):
                    processed["text"].append(await upload_to_completed(http, uploads, text, f"words-{n}.txt"))
                    processed["pdf"].append(await upload_to_completed(http, uploads, document, f"document-{n}.pdf"))
        finally:
            if gateway is not None:
                gateway.terminate()
                gateway.wait(timeout=30)
            if s3 is not None:
                s3.stop()

    backend = "S3 (SeaweedFS)" if use_s3 else "local disk"
    print(f"\nList a page of 50, {backend}, median of {rounds} (ms):")
    print(f"  {'':<16} {SMALL:>8} {files:>8}   big/small")
    for variant in VARIANTS:
        small, big = (statistics.median(pages[variant, size]) * 1000 for size in ("small", "big"))
        print(f"  {variant:<16} {small:8.1f} {big:8.1f}   {big / small:.2f}")
    print(f"\nUpload to completed, {backend}, median of {UPLOAD_ROUNDS} (s):")
    print(f"  {'':<26} {'upload':>7} {'completed':>10}")
    for label, key in (
        (f"text, {TEXT_BYTES / 1e6:.0f} MB", "text"),
        (f"PDF, {PDF_PAGES} pages, {pdf_mb:.1f} MB", "pdf"),
    ):
        uploaded, completed = (statistics.median(times) for times in zip(*processed[key], strict=True))
        print(f"  {label:<26} {uploaded:7.2f} {completed:10.2f}")
    completed = statistics.median(c for _, c in processed["text"])
    print(f"  text, upload to completed: {TEXT_BYTES / 1e6 / completed:.1f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the big folder")
    parser.add_argument("--rounds", type=int, default=30, help="requests per page kind and folder")
    parser.add_argument("--s3", action="store_true", help="on a SeaweedFS started for the run, not local disk")
    args = parser.parse_args()
    asyncio.run(run(args.files, args.rounds, args.s3))


if __name__ == "__main__":
    main()
