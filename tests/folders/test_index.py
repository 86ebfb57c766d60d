"""TimeIndex: pages in both orders from either side of a cursor, each one
bounded listing, ties in time broken by id, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backends import BaseBackend
from gateway.folders.index import TimeIndex
from gateway.folders.models import new_id


async def test_pages_in_both_orders(backend: BaseBackend) -> None:
    index = TimeIndex(backend, "index-test/")
    start = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    # Three items share each microsecond: the id decides among them.
    items = sorted((start + timedelta(microseconds=i // 3), new_id("file")) for i in range(12))
    for created, item_id in items:
        await index.add(created, item_id)
    ids = [item_id for _, item_id in items]

    assert await index.page("asc", 100) == ids
    assert await index.page("desc", 100) == ids[::-1]
    assert await index.page("asc", 4, after=items[5]) == ids[6:10]
    assert await index.page("desc", 4, after=items[5]) == ids[4::-1][:4]
    assert await index.page("asc", 3, before=items[5]) == ids[2:5]
    assert await index.page("desc", 3, before=items[5]) == ids[8:5:-1]
    assert await index.page("asc", 100, after=items[2], before=items[6]) == ids[3:6]
    assert await index.page("desc", 100, after=items[6], before=items[2]) == ids[5:2:-1]
    assert await index.page("asc", 5, after=items[-1]) == []

    await index.remove(*items[0])
    assert await index.page("asc", 2) == ids[1:3]
    assert await index.page("desc", 100) == ids[:0:-1]
