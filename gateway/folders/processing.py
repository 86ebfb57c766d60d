"""Background processing of uploaded files: pending → parsing → embedding →
completed, or error with a message.

Every file to process has a job object in storage (written by the upload,
removed when the file reaches a terminal state or is deleted) holding a
lease: the process working on it renews the lease while it works. Each
process lists the jobs at start and then every half lease, and takes those
whose lease has run out, so a file left half-done by a crash or a restart
is picked up again by whichever replica sees it first. Two replicas taking
the same expired job at once both produce the same result.

Embedding is pluggable: without an ``Embedder`` nothing is embedded,
``chunks_embedded`` stays 0 and files still complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from aiohttp import web

from backends import NotFound, StorageUnavailable

from ..http.errors import ApiError
from .chunking import Chunker
from .extract import ExtractionError, extract
from .filetypes import chunk_style, reader_of
from .models import DEFAULT_CHUNK_SIZE, TERMINAL, EmbeddingConfig, FileMetadata, Folder
from .store import JOBS, FolderStore

log = logging.getLogger(__name__)

#: Chunks passed to the embedder at once when the config does not say.
DEFAULT_BATCH = 32


class Embedder(Protocol):
    async def embed(self, chunks: list[str], config: EmbeddingConfig) -> int:
        """Embed ``chunks`` with the folder's config; return how many were."""


class Processor:
    def __init__(
        self,
        store: FolderStore,
        workers: int,
        lease_seconds: float,
        embedder: Embedder | None = None,
        observe: Callable[[str, float], None] = lambda status, seconds: None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.embedder = embedder
        self.observe = observe
        self.owner = str(uuid.uuid4())
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
        """Queue every job whose lease has run out."""
        async for entry in self.store.storage.iter_all(JOBS):
            file_id = entry.key[len(JOBS) :].removesuffix(".json")
            if file_id in self.queued:
                continue
            with contextlib.suppress(NotFound):
                if (await self.store.storage.get_json(entry.key))["lease_until"] < time.time():
                    self.submit(file_id)

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
        """Process one file if its job is free (or ours) and still wanted."""
        key = self.store.job_key(file_id)
        try:
            job = await self.store.storage.get_json(key)
        except NotFound:
            return
        if job.get("owner") not in (None, self.owner) and job["lease_until"] >= time.time():
            return
        try:
            folder = await self.store.get_folder(job["folder_id"])
            meta = await self.store.get_file(folder.id, file_id)
        except ApiError:  # deleted meanwhile
            meta = None
        if meta is None or meta.processing_status in TERMINAL:
            await self.store.storage.delete(key)
            return
        async with self._lease(key, job):
            started = time.perf_counter()
            meta = await self._process(folder, meta)
            self.observe(meta.processing_status, time.perf_counter() - started)
        await self.store.storage.delete(key)

    @contextlib.asynccontextmanager
    async def _lease(self, key: str, job: dict) -> AsyncIterator[None]:
        async def renew() -> None:
            while True:
                job.update(owner=self.owner, lease_until=time.time() + self.lease_seconds)
                try:
                    await self.store.storage.put_json(key, job)
                except StorageUnavailable as exc:  # try again at the next renewal
                    log.warning("cannot renew the lease of %s: %s", key, exc)
                await asyncio.sleep(self.lease_seconds / 3)

        renewing = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            # Not ``suppress(CancelledError)``: that would also swallow a
            # cancellation of this worker arriving here, and close() would
            # wait for ever on a worker back at its queue.
            await asyncio.gather(renewing, return_exceptions=True)

    async def _process(self, folder: Folder, meta: FileMetadata) -> FileMetadata:
        try:
            return await self._stages(folder, meta)
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
        chunker = Chunker(size, chunk_style(meta.file_type))

        async def text() -> AsyncIterator[str]:
            async with self.store.open_blob(meta) as blob:
                async for piece in extract(reader_of(meta.file_type), blob):
                    chunker.feed(piece)
                    yield piece

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

        async with self.store.storage.open(self.store.content_key(meta.source_id, meta.id)) as blob:
            async for piece in extract("text", blob):
                batch.extend(chunker.feed(piece))
                embedded += await send(last=False)
        batch.extend(chunker.close())
        return embedded + await send(last=True)


PROCESSOR = web.AppKey("processor", Processor)
