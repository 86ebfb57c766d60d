"""Background processing of uploaded files: pending → parsing → embedding →
completed, or error with a message.

Every file to process has a job object in storage (``jobs.py``: written
before the upload's bytes, removed when the file reaches a terminal state
or is deleted) holding a lease: the upload, then the process working on the
file, renews the lease while it works. Each process lists the jobs at start
and then every half lease, and takes those whose lease has run out, so a
file left half-done by a crash or a restart is picked up again by whichever
replica sees it first. Two replicas taking the same expired job at once
both produce the same result.

What a taken job finds decides what is done (the upload's steps are in
``store.py``):

- no record: an upload cut before its record was written (or a file
  deleted meanwhile); nothing of it was listed and the client had no
  answer: what the job says it may have written (bytes, index entries,
  the original's marker) and the job are removed;
- a record whose file does not hold its name: an upload cut before it
  claimed its name (listed as ``pending``, but the client had no answer
  and will upload again; completing it would make a duplicate, or in
  ``replace`` mode undo the retry), or a replaced file whose delete was
  cut: removed, as the upload or the replacement would have done;
- a record holding its name, in a job taken over from another process,
  without its bytes: an upload cut in its last round, removed; with them:
  the upload's writes all landed but perhaps an index entry or the
  original's marker, which are written again;
- a record holding its name (and its bytes): the upload was answered, or
  cut after its last write, so the file is processed (from the start). Each start is counted in the job: a file
  whose processing was started ``max_attempts`` times, each ended by a
  crash or a kill (any other failure ends in ``error`` at once; a stopping
  gateway hands its files back uncounted), ends in ``error``.

Bounds: one file's processing takes at most ``timeout`` seconds and
extracts at most ``max_text_bytes`` of text, else it ends in ``error`` with
a message saying which. Extraction runs in a child process killed at the
limit or when the worker stops (``extract.py``), and chunking in a thread
(the splitter releases the GIL), so neither holds the event loop, and a
shutdown kills the child rather than waiting for it.

The same scan collects, every half ``orphan_grace``, the bytes of folder
files with neither a record nor a job that are older than ``orphan_grace``:
left by a crash in the upload order of older versions, or by a cut delete.
A current upload writes its job first, so its bytes are never collected.

Embedding is pluggable: without an ``Embedder`` nothing is embedded,
``chunks_embedded`` stays 0 and files still complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from backends import StorageUnavailable

from .chunking import Chunker
from .exceptions import FileNotFound, FolderNotFound
from .extract import ChildLimits, ExtractionError, extract
from .filetypes import chunk_style, reader_of
from .models import DEFAULT_CHUNK_SIZE, TERMINAL, EmbeddingConfig, FileMetadata, Folder
from .store import FolderStore

log = logging.getLogger(__name__)

#: Chunks passed to the embedder at once when the config does not say.
DEFAULT_BATCH = 32


class Embedder(Protocol):
    async def embed(self, chunks: list[str], config: EmbeddingConfig) -> int:
        """Embed ``chunks`` with the folder's config; return how many were."""


@dataclass(frozen=True)
class Limits:
    """The settings of the same names (``settings.py``)."""

    timeout: float = 300
    max_text_bytes: int = 64 * 1024**2
    max_attempts: int = 3
    orphan_grace: float = 3600

    def child(self) -> ChildLimits:
        return ChildLimits(cpu_seconds=math.ceil(self.timeout), wall_seconds=self.timeout)


class Processor:
    def __init__(
        self,
        store: FolderStore,
        workers: int,
        lease_seconds: float,
        embedder: Embedder | None = None,
        observe: Callable[[str, float], None] = lambda status, seconds: None,
        limits: Limits = Limits(),
    ) -> None:
        self.store = store
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.embedder = embedder
        self.observe = observe
        self.limits = limits
        #: The store's: a job its upload wrote is this process's to take at once.
        self.jobs = store.jobs
        self.next_collection = 0.0
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        #: Jobs queued or running here, so that a scan does not queue them twice.
        self.queued: set[str] = set()
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        if self.workers:
            self.tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
            self.tasks.append(asyncio.create_task(self._scan_forever()))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def submit(self, file_id: str) -> None:
        if self.workers and file_id not in self.queued:
            self.queued.add(file_id)
            self.queue.put_nowait(file_id)

    async def _scan_forever(self) -> None:
        while True:
            try:
                await self.scan()
            except StorageUnavailable as exc:
                log.warning("cannot list processing jobs: %s", exc)
            except Exception:  # one bad job object must not stop the pickup for good
                log.exception("scanning the processing jobs failed")
            await asyncio.sleep(self.lease_seconds / 2)

    async def scan(self) -> None:
        """Queue every job whose lease has run out; collect orphans when due."""
        async for file_id in self.jobs.expired(skip=self.queued):
            self.submit(file_id)
        if time.monotonic() >= self.next_collection:
            self.next_collection = time.monotonic() + self.limits.orphan_grace / 2
            if collected := await self.store.collect_orphans(self.limits.orphan_grace):
                log.info("collected the bytes of %d folder files without a record", collected)

    async def _work(self) -> None:
        while True:
            file_id = await self.queue.get()
            try:
                await self.run(file_id)
            except StorageUnavailable as exc:
                log.warning("processing of %s stopped, the storage is unavailable: %s", file_id, exc)
            except Exception:
                log.exception("processing of %s failed", file_id)
            finally:
                self.queued.discard(file_id)

    async def run(self, file_id: str) -> None:
        """Process one file if its job is free (or ours) and still wanted;
        finish what a crash left (see the module's docstring)."""
        job = await self.jobs.get(file_id)
        if job is None:
            return
        if job.owner not in (None, self.jobs.owner) and job.lease_until >= time.time():
            return
        taken_over = job.owner != self.jobs.owner
        try:
            folder = await self.store.get_folder(job.folder_id)
            meta = await self.store.get_file(folder.id, file_id)
        except (FolderNotFound, FileNotFound):  # deleted meanwhile, or an upload cut before its record
            await self.store.remove_cut_upload(file_id, job)
            return
        if meta.processing_status in TERMINAL:
            await self.jobs.remove(file_id)
            return
        # A job this process's upload wrote was answered; one taken over may
        # be of an upload cut in its last round.
        if not await self.store.holds_name(meta) or (taken_over and not await self.store.complete_cut_upload(meta)):
            await self.store.remove_file(meta)
            return
        attempts = job.attempts + 1
        if attempts > self.limits.max_attempts:
            meta.processing_status = "error"
            meta.error_message = (
                f"Processing was started {attempts - 1} times and never finished "
                "(the process working on it stopped each time)"
            )
            await self.store.save_progress(meta)
            await self.jobs.remove(file_id)
            return
        job.attempts = attempts
        try:
            async with self.jobs.holding(file_id, job, self.lease_seconds):
                started = time.perf_counter()
                meta = await self._process(folder, meta)
                self.observe(meta.processing_status, time.perf_counter() - started)
        except asyncio.CancelledError:
            # A stop (SIGTERM), not a fault of the file: hand the job back
            # uncounted, for any replica to take at once.
            job.attempts, job.lease_until = attempts - 1, 0
            with contextlib.suppress(Exception):
                await asyncio.shield(self.jobs.put(file_id, job))
            raise
        await self.jobs.remove(file_id)

    async def _process(self, folder: Folder, meta: FileMetadata) -> FileMetadata:
        try:
            async with asyncio.timeout(self.limits.timeout):
                return await self._stages(folder, meta)
        except TimeoutError:
            meta.error_message = f"Processing took longer than {self.limits.timeout:g} s"
        except ExtractionError as exc:
            meta.error_message = str(exc)
        except StorageUnavailable:
            raise
        except Exception:
            log.exception("processing of %s failed", meta.id)
            meta.error_message = "Processing failed: internal error"
        meta.processing_status = "error"
        await self.store.save_progress(meta)
        return meta

    async def _stages(self, folder: Folder, meta: FileMetadata) -> FileMetadata:
        size = folder.embedding_config.embedding_chunk_size or DEFAULT_CHUNK_SIZE
        meta.processing_status = "parsing"
        if not await self.store.save_progress(meta):
            return meta
        chunker, limit, extracted = Chunker(size, chunk_style(meta.file_type)), self.limits.max_text_bytes, 0

        async def text() -> AsyncIterator[bytes]:
            nonlocal extracted
            async with self.store.open_blob(meta) as blob:
                async for piece in extract(reader_of(meta.file_type), blob, self.limits.child()):
                    data = piece.encode(errors="replace")  # pypdf can give lone surrogates
                    if (extracted := extracted + len(data)) > limit:
                        raise ExtractionError(f"The extracted text is over the limit of {limit} bytes")
                    await asyncio.to_thread(chunker.feed, piece)
                    yield data

        await self.store.put_content(meta, text())
        chunker.close()
        meta.total_chunks = chunker.count
        meta.processing_status = "embedding"
        if not await self.store.save_progress(meta):
            return meta
        meta.chunks_embedded = await self._embed(folder.embedding_config, meta, size)
        meta.processing_status = "completed"
        await self.store.save_progress(meta)
        return meta

    async def _embed(self, config: EmbeddingConfig, meta: FileMetadata, size: int) -> int:
        """Chunk the stored text again, a window at a time, so that no more
        than a window's chunks are ever held; embed them a batch at a time."""
        if (embedder := self.embedder) is None:
            return 0
        batch_size = config.batch_size or DEFAULT_BATCH
        chunker, batch, embedded = Chunker(size, chunk_style(meta.file_type)), list[str](), 0

        async def send(last: bool) -> int:
            sent = 0
            while len(batch) >= batch_size or (last and batch):
                sent += await embedder.embed(batch[:batch_size], config)
                del batch[:batch_size]
            return sent

        async with self.store.open_content(meta) as blob:
            async for piece in extract("text", blob):
                batch.extend(await asyncio.to_thread(chunker.feed, piece))
                embedded += await send(last=False)
        batch.extend(chunker.close())
        return embedded + await send(last=True)


PROCESSOR = web.AppKey("processor", Processor)
