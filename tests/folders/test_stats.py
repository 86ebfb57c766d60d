"""``metadata`` from listings: file records are read only for the detailed
answer (for the names), whatever the number of files."""

from __future__ import annotations

from collections.abc import AsyncIterator

from backends.memory import MemoryBackend
from gateway.folders.models import CreateFolder
from gateway.folders.store import FolderStore


class CountingBackend(MemoryBackend):
    """The memory backend, counting the file records read."""

    def __init__(self) -> None:
        super().__init__()
        self.record_reads = 0

    async def get_bytes(self, key: str) -> bytes:
        self.record_reads += "/records/" in key
        return await super().get_bytes(key)


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_totals_read_no_file_record() -> None:
    storage = CountingBackend()
    store = FolderStore(storage)
    for f in range(3):
        folder = await store.create_folder(CreateFolder(name=f"f{f}"))
        for i in range(40):
            await store.add_file(folder.id, f"{i}.txt", "text/plain", once(b"x" * (i + 1)), "suffix")
    storage.record_reads = 0
    totals = await store.stats(detailed=False)
    assert (totals.total_sources, totals.total_files, totals.total_size) == (3, 120, 3 * sum(range(1, 41)))
    assert storage.record_reads == 0
    detailed = await store.stats(detailed=True)
    assert storage.record_reads == 120 and sum(len(s.files) for s in detailed.sources) == 120
    assert await store.count_folders() == 3 and storage.record_reads == 120
