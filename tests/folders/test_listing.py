"""Folder pages from the index and the per-process cache
(``gateway/folders/listing.py``): the same pages as reading every record,
whatever changes, crashes, legacy entries and other processes left."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from backends import BaseBackend, backend_from_url
from gateway.folders import keys
from gateway.folders.exceptions import BadCursor
from gateway.folders.index import Order, TimeIndex
from gateway.folders.keys import FOLDER_INDEX
from gateway.folders.listing import entry_content, record_bytes
from gateway.folders.models import CreateFolder, Folder, UpdateFolder
from gateway.folders.store import FolderStore

from ..conftest import s3_url
from ..process import GatewayProcess
from ..seaweedfs import SeaweedFS
from .conftest import letta

PAGES: list[dict] = [
    {"order": "asc", "limit": 50, "after": None, "before": None},
    {"order": "desc", "limit": 50, "after": None, "before": None},
    {"order": "asc", "limit": 3, "after": None, "before": None},
    {"order": "desc", "limit": 2, "after": None, "before": None},
]


async def every_record(storage: BaseBackend, order: Order, indexed: bool = False) -> list[dict]:
    """All folders read one by one, in the order pages give (``indexed``:
    only those whose index entry exists)."""
    folders = [Folder.model_validate(await storage.get_json(e.key)) async for e in storage.iter_all("folders/")]
    if indexed:
        index = TimeIndex(storage, FOLDER_INDEX)
        entries = {e.key async for e in storage.iter_all(f"{FOLDER_INDEX}{order}/")}
        folders = [f for f in folders if index.key(order, f.created_at, f.id) in entries]
    return [f.wire() for f in sorted(folders, key=lambda f: (f.created_at, f.id), reverse=order == "desc")]


async def pages(store: FolderStore) -> list[list[dict]]:
    return [[f.wire() for f in await store.list_folders(**page, name=None)] for page in PAGES]


async def expected_pages(storage: BaseBackend, indexed: bool = False) -> list[list[dict]]:
    return [(await every_record(storage, page["order"], indexed))[: page["limit"]] for page in PAGES]


async def versions(store: FolderStore, folder: Folder) -> list[bytes]:
    """What the folder's two index entries hold (the version before the space)."""
    keys = [store.folder_index.key(o, folder.created_at, folder.id) for o in ("asc", "desc")]
    return [(await store.storage.get_bytes(key)).partition(b" ")[0] for key in keys]


async def test_pages_follow_changes_made_by_any_process(backend: BaseBackend) -> None:
    one, two = FolderStore(backend), FolderStore(backend)
    made = [await one.create_folder(CreateFolder(name=f"f{n}")) for n in range(6)]
    assert await pages(one) == await expected_pages(backend)
    assert await pages(two) == await pages(one)  # both have cached every folder now
    await two.update_folder(made[1].id, UpdateFolder(description="changed"))
    await two.delete_folder(made[2].id)
    made.append(await two.create_folder(CreateFolder(name="late")))
    expected = await expected_pages(backend)
    assert [f["id"] for f in expected[0]] == [f.id for f in made if f is not made[2]]
    assert expected[0][1]["description"] == "changed"
    assert await pages(one) == expected
    assert await pages(two) == expected
    # Cursors, cached or not, as before; a deleted one is still refused.
    middle = made[3].id
    for store in (one, two, FolderStore(backend)):
        after = await store.list_folders("asc", 2, middle, None, None)
        assert [f.id for f in after] == [made[4].id, made[5].id]
        before = await store.list_folders("desc", 10, None, middle, None)
        assert [f.id for f in before] == [made[6].id, made[5].id, made[4].id]
        with pytest.raises(BadCursor):
            await store.list_folders("asc", 2, made[2].id, None, None)
    await one.delete_folder(middle)
    with pytest.raises(BadCursor):
        await two.list_folders("asc", 2, middle, None, None)


async def test_a_change_cut_between_its_writes_is_read_then_repaired(backend: BaseBackend) -> None:
    store = FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="cut"))
    await pages(store)  # cached
    # A PATCH killed after writing its entries, before its record.
    changed = folder.model_copy(update={"description": "never written"})
    await store.folder_index.add(folder.created_at, folder.id, entry_content(record_bytes(changed)))
    assert await pages(store) == await expected_pages(backend)
    assert (await pages(store))[0][0]["description"] is None
    other = FolderStore(backend)
    assert await pages(other) == await expected_pages(backend)
    # Within the grace nothing is rewritten (a PATCH may be between its
    # writes); after it, the entries are made to name the record again.
    assert await versions(store, folder) == [entry_content(record_bytes(changed))[:32]] * 2
    other.folder_pages.grace = 0
    await pages(other)
    assert await versions(store, folder) == [entry_content(record_bytes(folder))[:32]] * 2
    # The record changed with the entries left behind (as a PATCH cut amid
    # a race leaves): served as stored, never the cached copy.
    changed = folder.model_copy(update={"description": "written"})
    stale = await backend.get_bytes(store.folder_index.key("asc", folder.created_at, folder.id))
    await store.folder_pages.save(changed, new=False)
    for order in ("asc", "desc"):
        await backend.put_bytes(store.folder_index.key(order, folder.created_at, folder.id), stale + b"x")
    for fresh in (store, other, FolderStore(backend)):
        assert (await pages(fresh))[0][0]["description"] == "written"


async def test_racing_patches_leave_no_stale_cached_folder(backend: BaseBackend, monkeypatch) -> None:  # noqa: ANN001
    """P1 writes its entries, P2 its entries and record, a reader caches P2's
    folder, then P1 writes its record: the reader must not keep P2's."""
    store, reader = FolderStore(backend), FolderStore(backend)
    folder = await store.create_folder(CreateFolder(name="raced"))
    held, release = asyncio.Event(), asyncio.Event()
    put_bytes = backend.put_bytes

    async def holding_p1_record(key: str, data: bytes, **kwargs):  # noqa: ANN003, ANN202
        if key == keys.folder(folder.id) and b'"description":"one"' in data and not release.is_set():
            held.set()
            await release.wait()
        return await put_bytes(key, data, **kwargs)

    monkeypatch.setattr(backend, "put_bytes", holding_p1_record)
    p1 = asyncio.create_task(store.update_folder(folder.id, UpdateFolder(description="one")))
    await asyncio.wait_for(held.wait(), 10)  # P1's entries written, its record not yet
    await store.update_folder(folder.id, UpdateFolder(description="two"))
    assert [f["description"] for f in (await pages(reader))[0]] == ["two"]  # cached there now
    release.set()
    await p1
    assert (await store.get_folder(folder.id)).description == "one"
    for process in (reader, store, FolderStore(backend)):
        assert await pages(process) == await expected_pages(backend)
        assert (await pages(process))[0][0]["description"] == "one"


async def test_legacy_empty_entries_keep_paging(backend: BaseBackend) -> None:
    store = FolderStore(backend)
    made = [await store.create_folder(CreateFolder(name=f"old{n}")) for n in range(4)]
    for folder in made:  # as versions before this one wrote them
        await store.folder_index.add(folder.created_at, folder.id)
    assert await pages(FolderStore(backend)) == await expected_pages(backend)
    updated = await store.update_folder(made[0].id, UpdateFolder(name="renamed"))
    repairing = FolderStore(backend)
    repairing.folder_pages.grace = 0
    assert await pages(repairing) == await expected_pages(backend)
    assert await versions(store, updated) == [entry_content(record_bytes(updated))[:32]] * 2
    for folder in made[1:]:
        assert await versions(store, folder) == [entry_content(record_bytes(folder))[:32]] * 2


@pytest.fixture
def s3_replicas(s3_server: SeaweedFS):  # noqa: ANN201
    storage = s3_url()
    with GatewayProcess(storage) as first, GatewayProcess(storage) as second:
        yield storage, first, second


async def stored_pages(storage: str, indexed: bool = False) -> tuple[list[list[dict]], set[str]]:
    """The pages as every record read gives them (``indexed``: every record
    with its index entries), and every folder's id."""
    backend = backend_from_url(storage)
    await backend.start()
    try:
        return await expected_pages(backend, indexed), {f["id"] for f in await every_record(backend, "asc")}
    finally:
        await backend.close()


def listed_pages(server: GatewayProcess) -> list[list[dict]]:
    client = letta(server)
    listed = []
    for page in PAGES:
        items = client.folders.list(order=page["order"], limit=page["limit"]).items
        listed.append([f.model_dump(mode="json", exclude_unset=True) for f in items])
    return listed


def raw_pages(server: GatewayProcess) -> list[list[dict]]:
    listed = []
    for page in PAGES:
        response = httpx.get(f"{server.url}/v1/folders/", params={"order": page["order"], "limit": page["limit"]})
        assert response.status_code == 200
        listed.append(response.json())
    return listed


async def test_exact_under_concurrent_changes_through_two_processes(s3_replicas) -> None:  # noqa: ANN001
    storage, a, b = s3_replicas
    rng = random.Random(14)
    made: list[str] = []

    def create(n: int) -> str:
        return letta((a, b)[n % 2]).folders.create(name=f"r{len(made)}-{n}").id

    def update(n: int, folder_id: str) -> None:
        letta((a, b)[n % 2]).folders.update(folder_id, description=f"d{n}")

    def delete(n: int, folder_id: str) -> None:
        letta((a, b)[n % 2]).folders.delete(folder_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for round_ in range(3):
            doomed = rng.sample(made, len(made) // 4)
            changed = rng.sample([f for f in made if f not in doomed], len(made) // 3)
            creates = [pool.submit(create, n) for n in range(30)]
            work = [pool.submit(delete, n, f) for n, f in enumerate(doomed)]
            work += [pool.submit(update, n, f) for n, f in enumerate(changed)]
            work += [pool.submit(raw_pages, (a, b)[n % 2]) for n in range(4)]
            made += [f.result() for f in creates]
            for future in work:
                future.result()
            made = [f for f in made if f not in doomed]
            expected, stored = await stored_pages(storage)
            assert stored == set(made), round_
            assert raw_pages(a) == expected
            assert raw_pages(b) == expected
            # One process sees the other's change at once.
            target = expected[1][0]["id"]
            update(0, target)
            assert raw_pages(b)[1][0]["description"] == "d0"
    assert [[f["id"] for f in page] for page in listed_pages(a)] == [[f["id"] for f in p] for p in expected]


async def test_a_process_killed_amid_changes(s3_server: SeaweedFS) -> None:
    storage = s3_url()
    with GatewayProcess(storage) as survivor:
        with GatewayProcess(storage) as doomed:
            ids = [letta(doomed).folders.create(name=f"k{n}").id for n in range(30)]
            raw_pages(survivor)  # cached there

            def hammer(n: int) -> None:
                client = letta(doomed)
                try:
                    if n % 3 == 0:
                        client.folders.delete(ids[n])
                    elif n % 3 == 1:
                        client.folders.update(ids[n], description=f"m{n}")
                    else:
                        client.folders.create(name=f"new{n}")
                except Exception:  # noqa: BLE001  (killed under it)
                    pass

            doomed.killed_amid(hammer, 30)
        # A create killed between its record and its entries leaves a folder
        # that GET opens and DELETE removes but no page lists (the listing
        # module's docstring): pages are the records that have entries.
        expected, _ = await stored_pages(storage, indexed=True)
        assert raw_pages(survivor) == expected
        with GatewayProcess(storage) as restarted:
            assert raw_pages(restarted) == expected
