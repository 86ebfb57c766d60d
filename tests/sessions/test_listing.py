"""Listing sessions from the key listing and the packs beside it
(``gateway/sessions/listing.py``): the same answer as reading every record,
whatever packs, crashes and other processes left."""

from __future__ import annotations

import asyncio
import json
import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from backends import BaseBackend, backend_from_url
from gateway.sessions.listing import PACKS, SessionListing
from gateway.sessions.models import CreateSession, Session
from gateway.sessions.store import RECORDS, SessionStore

from ..conftest import s3_url
from ..process import GatewayProcess
from ..seaweedfs import SeaweedFS

REPACK = 5


async def every_record(storage: BaseBackend) -> list[dict]:
    """The answer as it was made before packs: every record read, newest first."""
    sessions = [Session.model_validate(await storage.get_json(e.key)) async for e in storage.iter_all(RECORDS)]
    return [s.wire() for s in sorted(sessions, key=lambda s: (s.created_at, s.id), reverse=True)]


async def packs(storage: BaseBackend) -> list[str]:
    return [entry.key async for entry in storage.iter_all(PACKS)]


async def create(store: SessionStore, count: int) -> list[str]:
    return [(await store.create(CreateSession(title=f"s{n}", promptMode="append"))).id for n in range(count)]


def fresh(storage: BaseBackend) -> SessionListing:
    """What a process that has listed nothing yet sees."""
    return SessionListing(storage, RECORDS, repack_after=REPACK)


async def test_same_answer_as_reading_every_record(backend: BaseBackend) -> None:
    store = SessionStore(backend)
    store.listing = fresh(backend)
    assert await store.all() == []
    ids = await create(store, 12)
    expected = await every_record(backend)
    assert [s["id"] for s in expected] == ids[::-1]  # newest first
    assert "promptMode" not in expected[0]  # the wire form, not the stored record
    assert await store.all() == expected
    assert len(await packs(backend)) == 1  # 12 read one by one: packed
    # Another process answers the same from the pack, and more after creates
    # and deletes by anyone.
    other = SessionStore(backend)
    other.listing = fresh(backend)
    assert await other.all() == expected
    await store.delete(ids[3])
    await store.delete(ids[7])
    ids += await create(other, 3)
    expected = await every_record(backend)
    assert len(expected) == 13
    assert await store.all() == expected
    assert await other.all() == expected
    assert await fresh(backend).all() == expected


async def test_what_crashes_and_races_leave_is_repaired_or_ignored(backend: BaseBackend) -> None:
    store = SessionStore(backend)
    ids = await create(store, 8)
    await fresh(backend).all()  # packs all 8
    (pack,) = await packs(backend)
    content = json.loads(await backend.get_bytes(pack))
    # A session deleted after it was packed; one created and not packed; a
    # packed copy whose etag is not the record's (as if the record had been
    # replaced).
    await backend.delete(f"{RECORDS}{ids[0]}.json")
    ids += await create(store, 1)
    content[f"{RECORDS}{ids[1]}.json"] = ["not-the-etag", content[f"{RECORDS}{ids[1]}.json"][1] | {"title": "stale"}]
    await backend.put_json(pack, content)
    expected = await every_record(backend)
    assert {s["id"] for s in expected} == set(ids[1:])
    assert next(s["title"] for s in expected if s["id"] == ids[1]) == "s1"
    assert await fresh(backend).all() == expected
    # Two packs left by a cut cleanup, the newest one not readable.
    corrupt = f"{PACKS}50000000000000000000-zzzzzzzz.json"
    await backend.put_bytes(corrupt, b"{not json")
    assert await fresh(backend).all() == expected
    # Both removed, and everything read again is packed, after the bad one.
    (repacked,) = await packs(backend)
    assert repacked > corrupt
    ids += await create(store, REPACK)
    expected = await every_record(backend)
    assert await fresh(backend).all() == expected
    assert await fresh(backend).all() == expected
    assert len(await packs(backend)) == 1


async def test_packs_answer_in_this_versions_wire_form(backend: BaseBackend) -> None:
    store = SessionStore(backend)
    await create(store, 8)
    await fresh(backend).all()
    (pack,) = await packs(backend)
    content = json.loads(await backend.get_bytes(pack))
    # As a version with another wire form packed them: a field since
    # removed, one since added missing, a value in an older spelling.
    for copy in content.values():
        wire = copy[1]
        del wire["toolCallCount"]
        wire |= {"retired": 1, "cost": 0, "createdAt": wire["createdAt"].replace("Z", "+00:00")}
    await backend.put_json(pack, content)
    expected = await every_record(backend)
    assert await fresh(backend).all() == expected
    assert await packs(backend) == [pack]  # taken as it is: no record read again
    # An entry this version's ``Session`` refuses: the pack is dropped, its
    # sessions read again and packed anew.
    content[next(iter(content))][1]["browserMode"] = "retired-mode"
    await backend.put_json(pack, content)
    assert await fresh(backend).all() == expected
    (repacked,) = await packs(backend)
    assert repacked > pack
    assert await fresh(backend).all() == expected


async def test_a_pack_replaced_while_it_is_read(backend: BaseBackend) -> None:
    store = SessionStore(backend)
    await create(store, REPACK)
    listing = fresh(backend)
    await listing.all()
    # A process that merged the pack, then a repack by another replaced it.
    await create(store, REPACK)
    other = fresh(backend)
    expected = await every_record(backend)
    assert await other.all() == expected
    assert await listing.all() == expected


@pytest.fixture
def s3_replicas(s3_server: SeaweedFS):  # noqa: ANN201
    storage = s3_url()
    with GatewayProcess(storage) as first, GatewayProcess(storage) as second:
        yield storage, first, second


async def test_exact_under_concurrent_creates_and_deletes_through_two_processes(s3_replicas) -> None:  # noqa: ANN001
    storage, a, b = s3_replicas
    rng = random.Random(14)
    created: list[str] = []

    def create_one(n: int) -> str:
        server = (a, b)[n % 2]
        response = httpx.post(f"{server.url}/api/sessions", json={"title": f"t{n}"}, timeout=30)
        assert response.status_code == 201
        return response.json()["id"]

    def list_one(n: int) -> list[dict]:
        response = httpx.get(f"{(a, b)[n % 2].url}/api/sessions", timeout=30)
        assert response.status_code == 200
        return response.json()

    def delete_one(n: int, session_id: str) -> None:
        response = httpx.delete(f"{(a, b)[n % 2].url}/api/sessions/{session_id}", timeout=30)
        assert response.status_code == 204

    with ThreadPoolExecutor(max_workers=8) as pool:
        for round_ in range(3):  # creates, deletes and listings racing, then checked
            doomed = rng.sample(created, len(created) // 3)
            work = [pool.submit(create_one, n) for n in range(70)]
            work += [pool.submit(delete_one, n, session_id) for n, session_id in enumerate(doomed)]
            work += [pool.submit(list_one, n) for n in range(6)]
            created += [f.result() for f in work[:70]]
            for future in work[70:]:
                future.result()
            created = [session_id for session_id in created if session_id not in doomed]
            backend = backend_from_url(storage)
            await backend.start()
            try:
                expected = await every_record(backend)
            finally:
                await backend.close()
            assert {s["id"] for s in expected} == set(created), round_
            assert list_one(0) == expected
            assert list_one(1) == expected
            # A session made by one process is listed by the other at once,
            # and gone from it once the other deletes it.
            new = create_one(0)
            assert list_one(1)[0]["id"] == new
            delete_one(1, new)
            assert new not in {s["id"] for s in list_one(0)}


async def test_a_process_killed_amid_creates_deletes_and_listings(s3_server: SeaweedFS) -> None:
    storage = s3_url()
    with GatewayProcess(storage) as survivor:
        with GatewayProcess(storage) as doomed:
            ids = [httpx.post(f"{doomed.url}/api/sessions", json={"title": f"k{n}"}).json()["id"] for n in range(70)]

            def hammer(n: int) -> None:
                try:
                    if n % 3 == 0:
                        httpx.delete(f"{doomed.url}/api/sessions/{ids[n]}", timeout=10)
                    elif n % 3 == 1:
                        httpx.post(f"{doomed.url}/api/sessions", json={"title": f"m{n}"}, timeout=10)
                    else:
                        httpx.get(f"{doomed.url}/api/sessions", timeout=10)
                except httpx.HTTPError:  # killed under it
                    pass

            doomed.killed_amid(hammer, 40)
        backend = backend_from_url(storage)
        await backend.start()
        try:
            expected = await every_record(backend)
            listed = httpx.get(f"{survivor.url}/api/sessions", timeout=30)
            assert listed.status_code == 200
            assert listed.json() == expected
            # Repaired: the next listing of a fresh process comes from a pack.
            with GatewayProcess(storage) as restarted:
                assert httpx.get(f"{restarted.url}/api/sessions", timeout=30).json() == expected
            assert len(await packs(backend)) == 1
        finally:
            await backend.close()


async def test_listings_at_once_in_one_process(backend: BaseBackend) -> None:
    store = SessionStore(backend)
    await create(store, 2 * REPACK)
    listing = fresh(backend)
    # Cold listings together, with creates and deletes between them: each
    # answers exactly what its own key listing held.
    answers = await asyncio.gather(listing.all(), listing.all(), create(store, 3), listing.all(), listing.all())
    for answer in (answers[0], answers[1], answers[3], answers[4]):
        assert {s["id"] for s in answer} <= {s["id"] for s in await every_record(backend)}
        assert len(answer) in (2 * REPACK, 2 * REPACK + 1, 2 * REPACK + 2, 2 * REPACK + 3)
    assert await listing.all() == await every_record(backend)
