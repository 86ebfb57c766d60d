"""The processing pipeline with a pluggable embedder, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from backends import BaseBackend, backend_from_url
from gateway.folders.chunking import Chunker
from gateway.folders.jobs import Job, Jobs
from gateway.folders.models import CreateFolder, EmbeddingConfig
from gateway.folders.processing import Processor
from gateway.folders.store import FolderStore


class RecordingEmbedder:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def embed(self, chunks: list[str], config: EmbeddingConfig) -> int:
        assert config.embedding_model == "m"
        self.batches.append(chunks)
        return len(chunks)


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_chunks_reach_the_embedder_in_batches(backend: BaseBackend) -> None:
    store = FolderStore(backend)
    config = {"embedding_endpoint_type": "openai", "embedding_model": "m", "embedding_dim": 8, "batch_size": 4}
    folder = await store.create_folder(
        CreateFolder(name="f", embedding_config=EmbeddingConfig(**config), embedding_chunk_size=20)
    )
    text = " ".join(f"w{i}" for i in range(200))
    meta, _ = await store.add_file(folder.id, "a.txt", "text/plain", once(text.encode()), "error")
    embedder = RecordingEmbedder()
    processor = Processor(store, workers=1, lease_seconds=30, embedder=embedder)
    await processor.run(meta.id)

    done = await store.get_file(folder.id, meta.id, include_content=True)
    assert (done.processing_status, done.content) == ("completed", text)
    # Chunks of 20 tokens, overlapping by 4, in batches of 4.
    chunker = Chunker(20)
    chunks = chunker.feed(text) + chunker.close()
    assert (done.total_chunks, done.chunks_embedded) == (len(chunks), len(chunks))
    assert [c for batch in embedder.batches for c in batch] == chunks
    assert [len(batch) for batch in embedder.batches[:-1]] == [4] * (len(embedder.batches) - 1)
    assert 0 < len(embedder.batches[-1]) <= 4 and len(chunks) > 20
    assert chunks[0].startswith("w0 w1") and chunks[-1].endswith("w199")
    # Done: its job is gone, so a second run does nothing.
    assert [e.key async for e in backend.iter_all("folder-jobs/")] == []
    batches = len(embedder.batches)
    await processor.run(meta.id)
    assert len(embedder.batches) == batches


async def test_a_worker_cancelled_while_it_lets_go_of_its_lease_stops() -> None:
    """close() cancels the workers; a cancellation arriving while a worker
    stops renewing its lease must end it, or close() waits for ever."""
    storage = backend_from_url("memory://")

    async def hold_a_lease() -> None:
        async with Jobs(storage, "me").holding("x", Job(folder_id="f"), 30):
            pass  # the body ends at once: the next stop is the lease's release
        await asyncio.Event().wait()  # where a swallowed cancellation would leave it

    task = asyncio.create_task(hold_a_lease())
    await asyncio.sleep(0)  # the task runs up to the release, and waits there
    task.cancel()
    await asyncio.wait([task], timeout=5)
    assert task.cancelled()
