"""Listing every session at the cost of one listing of their keys.

Session records are written once (``if_absent``; there is no update) and
deleted last when a session goes. So:

- the storage listing of ``sessions/`` is the truth of which sessions exist,
  and its etags tell which version of a record a copy was made from;
- their bodies are kept beside it in *packs*, ``session-packs/<time>-<rand>.json``:
  ``{key: [etag, wire record]}`` of every session a listing saw. Any process
  writes a new pack after a listing that found at least ``repack_after``
  sessions missing from the newest pack (or that many in it deleted since),
  then removes the older packs. Packs are immutable: a process keeps the
  last one it merged in memory, with the records it read since, for the
  sessions still listed (so bounded by their count);
- a listing is then: list ``sessions/``, take each record from memory, else
  from the newest pack (one GET, only if something is missing from memory),
  else from the record itself (bounded concurrent GETs), each copy used only
  if its etag is the listed one.

What a crash leaves is harmless: a record not yet packed is read by GET, a
packed record whose key is gone is not listed (so deletes need no pack
write), a cut pack write leaves nothing (puts are atomic), and packs left by
a cut cleanup are removed by the next listing that sees them. A pack is
named after the newest one its writer merged, even if the writer's clock is
behind. Records enter the memory only through ``Session`` validation, from
the record or from a pack, and leave it as ``Session.wire()`` makes them now,
so what they answer is what ``GET /api/sessions/{id}`` would, even from
packs written by a version whose wire form differed (about 10 ms more per
1,000 sessions, once per pack a process merges: bench/listings.py). A pack
that cannot be parsed, or holding an entry ``Session`` refuses, is removed
and ignored (its sessions read one by one and packed again), never a 500.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from backends import BaseBackend, Entry, NotFound

from ..records import read_each
from .models import Session

PACKS = "session-packs/"
#: Records read one by one (or dead ones carried) before a listing repacks:
#: a few rounds of reads on S3, and one pack write per that many sessions.
REPACK_AFTER = 64
READ_CONCURRENCY = 16
#: Tries to read the newest pack while other processes replace it.
PACK_ATTEMPTS = 3


@dataclass(frozen=True)
class Known:
    """One session record, as listed at ``etag``."""

    etag: str
    order: tuple[datetime, str]
    wire: dict


def _known(etag: str, session: Session) -> Known:
    # Ordered by a plain datetime: pydantic's own tzinfo would make every
    # comparison of the sort call into Python.
    wire = session.wire()
    return Known(etag, (datetime.fromisoformat(wire["createdAt"]), wire["id"]), wire)


def _missing(entries: list[Entry], known: dict[str, Known]) -> list[Entry]:
    """The entries of which ``known`` holds no copy of the listed version."""
    return [e for e in entries if (k := known.get(e.key)) is None or k.etag != e.etag]


def _stamp(pack: str | None) -> int:
    digits = (pack or "")[len(PACKS) :][:20]
    return int(digits) if digits.isdigit() else 0


class SessionListing:
    def __init__(self, storage: BaseBackend, records: str, repack_after: int = REPACK_AFTER) -> None:
        self.storage = storage
        self.records = records
        self.repack_after = repack_after
        #: Key -> record of every session the last listing saw.
        self._known: dict[str, Known] = {}
        #: The newest pack merged into ``_known``, and its keys and etags.
        self._pack: str | None = None
        self._packed: dict[str, str] = {}
        self._filling = asyncio.Lock()

    async def all(self) -> list[dict]:
        """The wire form of every session, newest first."""
        entries = [entry async for entry in self.storage.iter_all(self.records)]
        known = self._known
        if _missing(entries, known):
            # One filler at a time: listings that arrive together (a cold
            # start) read each record once, not once each.
            async with self._filling:
                known = self._known
                if missing := _missing(entries, known):
                    known = await self._fill(entries, missing)
        current = [k for e in entries if (k := known.get(e.key)) is not None]
        return [k.wire for k in sorted(current, key=lambda k: k.order, reverse=True)]

    async def _fill(self, entries: list[Entry], missing: list[Entry]) -> dict[str, Known]:
        """Make ``_known`` hold the records of ``entries`` (those not deleted
        meanwhile), and only those; return it."""
        await self._merge_newest_pack()
        missing = _missing(missing, self._known)
        read = await read_each(missing, self._read, NotFound, READ_CONCURRENCY)
        known = self._known | {e.key: k for e, k in zip(missing, read, strict=True) if k is not None}
        self._known = known = {e.key: k for e in entries if (k := known.get(e.key)) is not None}
        if self._worth_repacking(entries):
            await self._repack(known)
        return known

    async def _read(self, entry: Entry) -> Known:
        # One GET; the listed etag is this record's, which is never rewritten.
        data = await self.storage.get_bytes(entry.key)
        return _known(entry.etag, Session.model_validate_json(data))

    def _worth_repacking(self, entries: list[Entry]) -> bool:
        packed = self._packed
        unpacked = sum(1 for e in entries if packed.get(e.key) != e.etag)
        dead = len(packed) - (len(entries) - unpacked)
        return unpacked + dead >= self.repack_after

    async def _merge_newest_pack(self) -> None:
        for _ in range(PACK_ATTEMPTS):
            packs = [entry.key async for entry in self.storage.iter_all(PACKS)]
            if not packs or packs[-1] == self._pack:
                return
            for older in packs[:-1]:  # left by a cut cleanup, or a racing repack
                await self.storage.delete(older)
            try:
                pack = json.loads(await self.storage.get_bytes(packs[-1]))
                merged = {key: _known(etag, Session.model_validate(wire)) for key, (etag, wire) in pack.items()}
            except NotFound:  # replaced meanwhile: look again
                continue
            except (ValueError, TypeError, KeyError, AttributeError):
                # Puts are atomic, so this never becomes a pack (nor, for a
                # pack ``Session`` refuses, one this version reads): drop it.
                await self.storage.delete(packs[-1])
                merged = {}
            self._pack, self._packed = packs[-1], {key: k.etag for key, k in merged.items()}
            self._known = merged | self._known
            return

    async def _repack(self, current: dict[str, Known]) -> None:
        # After the newest pack even if this clock is behind its writer's.
        stamp = max(time.time_ns(), _stamp(self._pack) + 1)
        key = f"{PACKS}{stamp:020d}-{uuid.uuid4().hex[:8]}.json"
        await self.storage.put_json(key, {k: [known.etag, known.wire] for k, known in current.items()})
        self._pack, self._packed = key, {k: known.etag for k, known in current.items()}
        for entry in [entry async for entry in self.storage.iter_all(PACKS)]:
            if entry.key < key:
                await self.storage.delete(entry.key)
