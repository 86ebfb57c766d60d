"""Reading many small records at once, a bounded number at a time, and
running writes together.

Both API families keep one JSON object per record; what a listing still has
to read one by one (sessions missing from the pack, a folder page's records
missing from the cache) goes through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

Item = TypeVar("Item")
Record = TypeVar("Record")


async def read_each(
    items: Iterable[Item],
    read: Callable[[Item], Awaitable[Record]],
    gone: type[Exception] | tuple[type[Exception], ...],
    concurrency: int,
) -> list[Record | None]:
    """``read`` of every item, at most ``concurrency`` at once, in the items'
    order; None for an item whose read raised ``gone`` (deleted after it was
    listed)."""
    limit = asyncio.Semaphore(concurrency)

    async def one(item: Item) -> Record | None:
        async with limit:
            try:
                return await read(item)
            except gone:
                return None

    return await asyncio.gather(*(one(item) for item in items))


async def together(*steps: Awaitable[Any]) -> list[Any]:
    """Run ``steps`` at once and wait for every one of them, then raise the
    first error if any: so that a cleanup after an error never races a
    write still in flight."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
