"""What a crash leaves between the steps of an upload, written with the
store's own key layout as the crash would leave it, is completed or removed
by the scan that takes over expired jobs; bytes without a record or a job
are collected after a grace, and never those of an upload in progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from backends import BaseBackend, NotFound
from gateway.folders import keys
from gateway.folders.exceptions import DuplicateName
from gateway.folders.jobs import Job, Jobs
from gateway.folders.models import CreateFolder, FileMetadata, Folder, new_id, now
from gateway.folders.processing import Limits, Processor
from gateway.folders.store import FolderStore

#: An upload's steps in order (``FolderStore.add_file``).
STEPS = ("job", "blob", "record", "index", "claim")


async def cut_upload(store: FolderStore, folder: Folder, name: str, steps: int) -> FileMetadata:
    """The first ``steps`` steps of an upload of ``name``, whose process then
    died: its job's lease has run out."""
    created = now()
    meta = FileMetadata(
        id=new_id("file"), source_id=folder.id, file_name=name, original_file_name=name, file_type="text/plain",
        file_size=len(name), file_creation_date=created.isoformat(), file_last_modified_date=created.isoformat(),
        created_at=created, updated_at=created,
    )  # fmt: skip
    writes = (
        lambda: store.jobs.put(meta.id, Job(folder_id=folder.id, owner="dead", lease_until=0)),
        lambda: store.storage.put_bytes(keys.blob(folder.id, meta.id), name.encode()),
        lambda: store.storage.put_json(keys.record(folder.id, meta.id), meta.wire()),
        lambda: store._index(folder.id).add(created, meta.id),
        lambda: store._names(folder.id).claim(name, meta.id),
    )
    for write in writes[:steps]:
        await write()
    return meta


async def keys_of(storage: BaseBackend, folder: Folder, file_id: str) -> list[str]:
    """Every key of the file (the claims name it in their content only)."""
    found = [entry.key async for entry in storage.iter_all(f"folder-files/{folder.id}/") if file_id in entry.key]
    return found + ([f"job of {file_id}"] if await Jobs(storage).exists(file_id) else [])


async def exists(storage: BaseBackend, key: str) -> bool:
    try:
        await storage.stat(key)
    except NotFound:
        return False
    return True


async def process_until_no_jobs(store: FolderStore, timeout: float = 15) -> None:
    """Run a processor (short leases, so cut uploads' jobs are taken over)
    until no job is left."""
    processor = Processor(store, workers=1, lease_seconds=1)
    processor.start()
    try:
        deadline = time.monotonic() + timeout
        while [entry async for entry in store.storage.iter_all("folder-jobs/")]:
            assert time.monotonic() < deadline, "jobs are left"
            await asyncio.sleep(0.05)
    finally:
        await processor.close()


async def test_each_cut_state_is_completed_or_removed(backend: BaseBackend) -> None:
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="cut"))
    cut = {
        STEPS[steps - 1]: await cut_upload(store, folder, f"{STEPS[steps - 1]}.txt", steps)
        for steps in range(1, len(STEPS) + 1)
    }
    await process_until_no_jobs(store)
    listed = await store.list_files(folder.id, "asc", 100, None, None, include_content=True)
    # Only the upload that took its name was answered: it completes.
    assert [(m.file_name, m.processing_status, m.content) for m in listed] == [("claim.txt", "completed", "claim.txt")]
    for step, meta in cut.items():
        if step != "claim":
            assert await keys_of(backend, folder, meta.id) == [], f"cut after {step}: left behind"
    # The name of a removed upload is free again, for an upload in "error" mode.
    again, skipped = await store.add_file(folder.id, "original.txt", "text/plain", once(b"again"), "error")
    assert (again.file_name, skipped) == ("original.txt", False)


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_orphan_bytes_are_collected_after_the_grace(backend: BaseBackend) -> None:
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="orphans"))
    kept, _ = await store.add_file(folder.id, "kept.txt", "text/plain", once(b"kept"), "error")
    old = keys.blob(folder.id, new_id("file"))
    await backend.put_bytes(old, b"old orphan")
    # An upload in progress: its job (lease live) came before its bytes.
    uploading = new_id("file")
    await store.jobs.put(uploading, Job(folder_id=folder.id, owner="alive", lease_until=time.time() + 60))
    await backend.put_bytes(keys.blob(folder.id, uploading), b"in progress")
    await asyncio.sleep(2.2)
    fresh = keys.blob(folder.id, new_id("file"))
    await backend.put_bytes(fresh, b"fresh orphan")
    processor = Processor(store, workers=1, lease_seconds=30, limits=Limits(orphan_grace=2))
    await processor.scan()  # collects at once, then every half grace
    assert not await exists(backend, old)
    for key in (fresh, keys.blob(folder.id, uploading), keys.blob(folder.id, kept.id)):
        assert await exists(backend, key), key
    assert await store.collect_orphans(grace=2) == 0


@pytest.mark.parametrize("mode", ["error", "suffix", "replace"])
async def test_an_answered_upload_is_processed_not_removed(backend: BaseBackend, mode: str) -> None:
    """The scan's removal is for cut uploads only: every answered one, in
    every duplicate mode, holds its name and is processed."""
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="answered"))
    first, _ = await store.add_file(folder.id, "a.txt", "text/plain", once(b"first"), "suffix")
    # In "error" mode the same name would be refused: another one.
    name = "b.txt" if mode == "error" else "a.txt"
    second, _ = await store.add_file(folder.id, name, "text/plain", once(b"second"), mode)
    processor = Processor(store, workers=1, lease_seconds=30)
    for meta in (first, second):
        await processor.run(meta.id)
    listed = await store.list_files(folder.id, "asc", 100, None, None, include_content=True)
    expected = [second] if mode == "replace" else [first, second]
    assert [(m.id, m.processing_status) for m in listed] == [(m.id, "completed") for m in expected]


#: The writes of an upload's last round, sent at once (``FolderStore.add_file``).
LAST_ROUND = ("blob", "record", "index", "claim")
#: What an answered upload needs; the scan writes the index entries again if
#: the crash left them out.
KEPT = {"blob", "record", "claim"}


async def cut_in_last_round(
    store: FolderStore, folder: Folder, name: str, landed: set[str], original: str | None = None
) -> FileMetadata:
    """An upload of ``name`` (uploaded as ``original``, the same if None)
    whose process died while its last round was in flight, after the writes
    in ``landed`` (its job's lease has run out)."""
    created, original = now(), original or name
    meta = FileMetadata(
        id=new_id("file"), source_id=folder.id, file_name=name, original_file_name=original, file_type="text/plain",
        file_size=len(name), file_creation_date=created.isoformat(), file_last_modified_date=created.isoformat(),
        created_at=created, updated_at=created,
    )  # fmt: skip
    job = Job(folder_id=folder.id, file_name=original, created_at=created, owner="dead", lease_until=0)
    await store.jobs.put(meta.id, job)
    writes = {
        "blob": lambda: store.storage.put_bytes(keys.blob(folder.id, meta.id), name.encode()),
        "record": lambda: store.storage.put_json(keys.record(folder.id, meta.id), meta.wire()),
        "index": lambda: store._index(folder.id).add(created, meta.id),
        "claim": lambda: store._names(folder.id).claim(name, meta.id),
    }
    await asyncio.gather(*(writes[step]() for step in LAST_ROUND if step in landed))
    return meta


async def test_every_cut_of_the_last_round_is_completed_or_removed(backend: BaseBackend) -> None:
    """All 16 states a crash can leave while the last round's writes are in
    flight: listings never fail and show nothing without its record; after
    the scan, a file is kept (and listed, and processed) exactly when its
    record, bytes and claim landed, and nothing is left of the others,
    whose names are free again."""
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="cut-last"))
    sets = [{s for i, s in enumerate(LAST_ROUND) if mask >> i & 1} for mask in range(2 ** len(LAST_ROUND))]
    cut = [(landed, await cut_in_last_round(store, folder, f"cut-{n}.txt", landed)) for n, landed in enumerate(sets)]
    before = await store.list_files(folder.id, "asc", 1000, None, None, include_content=False)
    with_record = {meta.id for landed, meta in cut if {"record", "index"} <= landed}
    assert {m.id for m in before} == with_record
    assert {m.processing_status for m in before} == {"pending"}

    await process_until_no_jobs(store)
    listed = await store.list_files(folder.id, "asc", 1000, None, None, include_content=True)
    kept = sorted(meta.file_name for landed, meta in cut if landed >= KEPT)
    assert len(kept) == 2
    assert sorted((m.file_name, m.processing_status, m.content) for m in listed) == [
        (name, "completed", name) for name in kept
    ]
    for landed, meta in cut:
        if not landed >= KEPT:
            assert await keys_of(backend, folder, meta.id) == [], f"cut after {sorted(landed)}: left behind"
            again, skipped = await store.add_file(folder.id, meta.file_name, "text/plain", once(b"again"), "suffix")
            assert (again.file_name, skipped) == (meta.file_name, False), sorted(landed)


async def test_only_a_renamed_file_has_a_marker_which_a_cut_upload_gets_again(backend: BaseBackend) -> None:
    """A file bearing the name it was uploaded as is found by its claim, and
    gets no marker; one stored as ``name_(N)`` is found by its marker, which
    the scan writes again when a crash left it out."""
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="renamed"))
    first, _ = await store.add_file(folder.id, "a.txt", "text/plain", once(b"first"), "suffix")
    second, _ = await store.add_file(folder.id, "a.txt", "text/plain", once(b"second"), "suffix")
    assert (first.file_name, second.file_name) == ("a.txt", "a_(1).txt")
    assert not await exists(backend, keys.original(folder.id, "a.txt", first.id))
    assert await exists(backend, keys.original(folder.id, "a.txt", second.id))
    cut = await cut_in_last_round(store, folder, "a_(2).txt", KEPT | {"index"}, original="a.txt")
    await process_until_no_jobs(store)
    assert await exists(backend, keys.original(folder.id, "a.txt", cut.id))
    # With the file bearing the name gone, its copies still make the name a duplicate.
    await store.delete_file(folder.id, first.id)
    with pytest.raises(DuplicateName):
        await store.add_file(folder.id, "a.txt", "text/plain", once(b"third"), "error")
    await store.delete_file(folder.id, second.id)
    skipped, was_skipped = await store.add_file(folder.id, "a.txt", "text/plain", once(b"third"), "skip")
    assert (skipped.id, was_skipped) == (cut.id, True)


async def test_a_claim_ahead_of_its_record_holds_the_name_while_the_upload_lives(backend: BaseBackend) -> None:
    """The last round's claim may land before its record: a racing upload
    then asks the job, and takes the name only once its lease has run out."""
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="claim-first"))
    uploading = new_id("file")
    job = Job(folder_id=folder.id, file_name="a.txt", created_at=now(), owner="alive", lease_until=time.time() + 60)
    await store.jobs.put(uploading, job)
    assert await store._names(folder.id).claim("a.txt", uploading) is None
    racer, _ = await store.add_file(folder.id, "a.txt", "text/plain", once(b"racer"), "suffix")
    assert racer.file_name == "a_(1).txt"
    await store.jobs.put(uploading, job.model_copy(update={"lease_until": 0}))  # its process died
    later, _ = await store.add_file(folder.id, "a.txt", "text/plain", once(b"later"), "suffix")
    assert later.file_name == "a.txt"
