"""Files left pending or half-processed by a stop or a crash complete once a
gateway runs again: the jobs live in storage, not in the process."""

from __future__ import annotations

import io
import os
import random
import signal

import pytest

from backends import backend_from_url
from gateway.folders.chunking import Chunker

from ..letta_client import letta, processed
from ..process import GatewayProcess
from .documents import pdf_of


@pytest.fixture
def storage(backend_url: str, backend_kind: str) -> str:
    if backend_kind == "memory":
        pytest.skip("memory storage does not outlive its process")
    return backend_url


def test_pending_files_complete_after_a_restart(storage: str) -> None:
    files = {"a.txt": b"plain words", "b.md": b"# more words", "c.pdf": pdf_of(["pdf words"])}
    with GatewayProcess(storage, {"GATEWAY_PROCESSING_WORKERS": "0"}) as api_only:
        client = letta(api_only)
        folder = client.folders.create(name="restart")
        ids = [client.folders.files.upload(folder.id, file=(n, io.BytesIO(d))).id for n, d in files.items()]
        assert {f.processing_status for f in client.folders.files.list(folder.id)} == {"pending"}
    with GatewayProcess(storage) as worker:
        done = [processed(letta(worker), folder.id, file_id) for file_id in ids]
    assert [(m.processing_status, m.content.split()) for m in done] == [
        ("completed", ["plain", "words"]),
        ("completed", ["#", "more", "words"]),
        ("completed", ["pdf", "words"]),
    ]


async def test_a_crash_mid_processing_is_taken_over(storage: str) -> None:
    """A killed gateway stops renewing its lease; another one takes the job
    over once the lease has run out."""
    vocabulary = [f"word{i}" for i in range(1000)]
    # ~3 MB: seconds of chunking (tokens are counted), so the kill lands mid-file.
    text = " ".join(random.Random(1).choices(vocabulary, k=400_000)).encode()
    lease = {"GATEWAY_PROCESSING_LEASE_SECONDS": "1"}
    with GatewayProcess(storage, lease) as doomed:
        client = letta(doomed)
        folder = client.folders.create(name="crash")
        meta = client.folders.files.upload(folder.id, file=("big.txt", io.BytesIO(text)))
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.process.wait()
    backend = backend_from_url(storage)
    await backend.start()
    try:
        record = await backend.get_json(f"folder-files/{folder.id}/records/{meta.id}.json")
    finally:
        await backend.close()
    assert record["processing_status"] in ("pending", "parsing"), "the crash came too late to test anything"
    with GatewayProcess(storage, lease) as survivor:
        done = processed(letta(survivor), folder.id, meta.id, timeout=60)
    assert done.processing_status == "completed"
    chunker = Chunker(300)
    assert len(done.content) == len(text) and done.total_chunks == len(chunker.feed(text.decode()) + chunker.close())
