"""Ids ordered by (created_at, id), pageable in both directions.

Object stores list keys in one direction only, so every item has two empty
index objects: ``asc/<microseconds>_<id>`` and ``desc/<inverted>_<inverted
id>``, where inversion makes the newest sort first. A page in either order,
from either side of a cursor, is then one listing of ``limit`` keys, however
many items there are.

The 16 digits are also split into folders (``asc/1764/000/123/456/<key>``,
at most a thousand entries in each below the first), because a local disk
lists a folder by reading all of it: a flat folder of 10,000 keys would make
every page read 10,000 names. All keys have the same length and depth, so
every backend lists them in the same (byte) order.

An index object may hold a few bytes that say which version of the item it
was written for (``folders/listing.py``); the listing's etag then names that
version without a read. Entries written empty (by older versions) still page.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

from backends import BaseBackend, Entry

Order = Literal["asc", "desc"]

_DIGITS = 16  # microseconds since 1970 fit until the year 2286
_TOP = 10**_DIGITS - 1
#: Digit ranges of the folders: about 11.6 days, 16.7 minutes, 1 s and 1 ms.
_FOLDERS = ((0, 4), (4, 7), (7, 10), (10, 13))
_INVERT = str.maketrans("0123456789abcdef", "fedcba9876543210")
_UNINVERT = str.maketrans("fedcba9876543210", "0123456789abcdef")


def _micros(created: datetime) -> int:
    return round((created - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)


class TimeIndex:
    def __init__(self, storage: BaseBackend, prefix: str) -> None:
        self.storage = storage
        self.prefix = prefix

    def key(self, order: Order, created: datetime, item_id: str) -> str:
        """The key of the item's entry in ``order``."""
        micros = _micros(created)
        if order == "desc":
            micros, item_id = _TOP - micros, item_id.translate(_INVERT)
        digits = f"{micros:0{_DIGITS}d}"
        folders = "/".join(digits[start:end] for start, end in _FOLDERS)
        return f"{self.prefix}{order}/{folders}/{digits}_{item_id}"

    def _id(self, order: Order, key: str) -> str:
        item_id = key.rpartition("_")[2]
        return item_id if order == "asc" else item_id.translate(_UNINVERT)

    async def add(self, created: datetime, item_id: str, version: bytes = b"") -> None:
        """Write both entries of the item, holding ``version``."""
        keys = (self.key(o, created, item_id) for o in ("asc", "desc"))
        await asyncio.gather(*(self.storage.put_bytes(key, version) for key in keys))

    async def remove(self, created: datetime, item_id: str) -> None:
        await asyncio.gather(*(self.storage.delete(self.key(o, created, item_id)) for o in ("asc", "desc")))

    async def page(
        self,
        order: Order,
        limit: int,
        after: tuple[datetime, str] | None = None,
        before: tuple[datetime, str] | None = None,
    ) -> list[str]:
        """Up to ``limit`` ids in ``order``: those following ``after``, or
        else the ones right before ``before``, never reaching the other cursor."""
        return [item_id for item_id, _ in await self.page_entries(order, limit, after, before)]

    async def page_entries(
        self,
        order: Order,
        limit: int,
        after: tuple[datetime, str] | None = None,
        before: tuple[datetime, str] | None = None,
    ) -> list[tuple[str, Entry]]:
        """``page``'s ids, each with the index entry it was listed from."""
        if after is None and before is not None:
            reverse: Order = "desc" if order == "asc" else "asc"
            return list(reversed(await self._list(reverse, limit, start=before, stop=None)))
        return await self._list(order, limit, start=after, stop=before)

    async def _list(
        self, order: Order, limit: int, start: tuple[datetime, str] | None, stop: tuple[datetime, str] | None
    ) -> list[tuple[str, Entry]]:
        start_after = self.key(order, *start) if start else ""
        entries = await self.storage.list(f"{self.prefix}{order}/", start_after=start_after, limit=limit)
        stop_key = self.key(order, *stop) if stop else None
        return [(self._id(order, e.key), e) for e in entries if stop_key is None or e.key < stop_key]
