"""Name claims (``folders/claims.py``) raced on ``memory://``: of many
concurrent claimers of one name exactly one wins and all others are told
who; a released name (its holder gone) is reclaimed by exactly one; a
take-over hands each previous holder to exactly one taker."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterable, Mapping

import pytest

import gateway.folders.claims
from backends.base import Entry, ObjectInfo
from backends.memory import MemoryBackend
from gateway.folders.claims import NameClaims

CLAIMERS = 40
PREFIX = "names/"


class Interleaving(MemoryBackend):
    """The memory backend with a few scheduling points before each
    primitive, as any network storage has: without them a coroutine would
    run a whole claim before the next began, and nothing would race."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._random = random.Random(seed)

    async def _yield(self) -> None:
        for _ in range(self._random.randrange(4)):
            await asyncio.sleep(0)

    async def _put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str, metadata: Mapping[str, str], if_absent: bool
    ) -> ObjectInfo:
        await self._yield()
        return await super()._put(key, chunks, content_type, metadata, if_absent)

    async def _get_bytes(self, key: str) -> bytes:
        await self._yield()
        return await super()._get_bytes(key)

    async def _delete(self, key: str) -> bool:
        await self._yield()
        return await super()._delete(key)

    async def _list(self, prefix: str, start_after: str, limit: int) -> list[Entry]:
        await self._yield()
        return await super()._list(prefix, start_after, limit)


class Holders:
    """Which holders exist (a folder or a file the claim names)."""

    def __init__(self, storage: Interleaving) -> None:
        self.live = {f"holder-{i}" for i in range(CLAIMERS)}
        self._storage = storage

    async def is_live(self, name: str, holder: str) -> bool:
        await self._storage._yield()  # a record read, in the stores
        return holder in self.live


@pytest.fixture(params=range(5), ids=lambda seed: f"seed{seed}")
async def storage(request: pytest.FixtureRequest) -> Interleaving:
    storage = Interleaving(request.param)
    await storage.start()
    return storage


@pytest.fixture
def holders(storage: Interleaving) -> Holders:
    return Holders(storage)


@pytest.fixture
def claims(storage: Interleaving, holders: Holders) -> NameClaims:
    return NameClaims(storage, PREFIX, holders.is_live)


async def race(claims: NameClaims, name: str, claimers: list[str]) -> str:
    """Every claimer claims ``name`` at once; the one winner."""
    answers = await asyncio.gather(*(claims.claim(name, claimer) for claimer in claimers))
    winners = [claimer for claimer, answer in zip(claimers, answers, strict=True) if answer is None]
    assert len(winners) == 1, winners
    assert answers.count(winners[0]) == len(claimers) - 1  # every loser is told who won
    assert await claims.holder(name) == winners[0]
    return winners[0]


async def test_of_many_concurrent_claimers_exactly_one_wins(claims: NameClaims, holders: Holders) -> None:
    winner = await race(claims, "notes.txt", sorted(holders.live))
    assert await claims.claim("notes.txt", winner) is None  # its own name still
    assert await claims.claim("notes.txt", "holder-late") == winner
    assert await claims.holder("other.txt") is None


async def test_names_race_apart(claims: NameClaims, holders: Holders) -> None:
    names = [f"name-{i}" for i in range(4)]
    claimers = sorted(holders.live)
    winners = await asyncio.gather(*(race(claims, name, claimers[i::4]) for i, name in enumerate(names)))
    assert [winner in claimers[i::4] for i, winner in enumerate(winners)] == [True] * 4


async def test_a_released_name_is_reclaimed_by_exactly_one(claims: NameClaims, holders: Holders) -> None:
    previous = await race(claims, "notes.txt", sorted(holders.live))
    for _ in range(6):
        holders.live.discard(previous)  # deleted: its claim is stale
        assert await claims.holder("notes.txt") is None
        previous = await race(claims, "notes.txt", sorted(holders.live))


async def test_each_take_over_hands_the_previous_holder_on(claims: NameClaims, holders: Holders) -> None:
    first = await race(claims, "notes.txt", ["holder-0", "holder-1"])
    for taker in sorted(holders.live - {first}):
        previous = await claims.holder("notes.txt")
        assert await claims.take("notes.txt", taker) == previous
        assert await claims.holder("notes.txt") == taker


@pytest.mark.parametrize("seed", [0, 1, 2, 182])
async def test_concurrent_take_overs_hand_each_previous_holder_to_one_taker(seed: int) -> None:
    # Seed 0 failed while writers pruned a generation as soon as _KEEP newer
    # ones existed, and 182 does with PRUNE_AFTER = 0: a stalled taker
    # re-creates a pruned generation and is handed a replaced holder.
    storage = Interleaving(seed=seed)
    holders = Holders(storage)
    claims = NameClaims(storage, PREFIX, holders.is_live)
    first = await race(claims, "notes.txt", ["holder-0", "holder-1"])
    takers = sorted(holders.live - {first})
    previous = await asyncio.gather(*(claims.take("notes.txt", taker) for taker in takers))
    last = await claims.holder("notes.txt")
    # Each holder but the last was replaced by exactly one taker, who deletes it.
    assert sorted([*previous, last], key=str) == sorted([first, *takers])


async def test_old_generations_are_pruned(
    claims: NameClaims, holders: Holders, storage: Interleaving, monkeypatch: pytest.MonkeyPatch
) -> None:
    for round_ in range(20):
        holder = f"holder-{round_}"
        assert await claims.take("notes.txt", holder) == (f"holder-{round_ - 1}" if round_ else None)
    assert await claims.holder("notes.txt") == "holder-19"
    # Younger than PRUNE_AFTER: all kept, so no stalled writer finds a slot free.
    assert len(await storage.list(PREFIX)) == 20
    monkeypatch.setattr(gateway.folders.claims, "PRUNE_AFTER", 0.0)
    assert await claims.holder("notes.txt") == "holder-19"
    assert len(await storage.list(PREFIX)) == 4


async def test_the_newest_of_more_generations_than_one_listing_page() -> None:
    storage = MemoryBackend()
    claims = NameClaims(storage, PREFIX, lambda name, holder: _true())
    for n in range(1100):  # none old enough to prune
        assert await claims.take("busy.txt", f"h{n}") == (f"h{n - 1}" if n else None)
    assert await claims.holder("busy.txt") == "h1099"


async def _true() -> bool:
    return True
