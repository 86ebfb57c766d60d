"""Unique names (folder names, file names in a folder) claimed in storage.

A lock in one process cannot stop another replica, so names are claimed
with the backend's put-if-absent. Each name has a short history of
generations under ``<prefix><sha256(name)>/<generation>``, each holding an
id; the newest generation says who holds the name. Taking a name writes the
next generation if absent, so of several racing writers exactly one gets
it, on every backend and across processes.

A holder that no longer exists (deleted, renamed, or a crash between the
claim and a delete) is detected by ``is_live`` and its name taken over, so
deletes never need to touch the claims.

Old generations are pruned, but only once they are ``PRUNE_AFTER`` older
than the newest (by the storage's own clock): a writer that read the newest
generation and stalled before writing the next could otherwise find that
slot pruned, re-create it with put-if-absent and believe it took a name
that newer generations hold (two takers handed one previous holder, or two
files of one name). A writer only ever writes right after its read, so a
stall that long is not one this service survives anyway (storage calls time
out well before).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable

from backends import AlreadyExists, BaseBackend, Entry, NotFound, StorageUnavailable

_DIGITS = 12
#: Generations kept per name; older ones are pruned. Readers only need the
#: newest, the few before it keep a racing reader from finding nothing.
_KEEP = 4
#: How much older than the newest generation a pruned one must be (seconds).
PRUNE_AFTER = 600.0
#: Rounds a claim may lose to other writers (or to a lagging listing) before
#: the storage is deemed not to be settling.
_ATTEMPTS = 50


def _unsettled(name: str) -> StorageUnavailable:
    return StorageUnavailable(f"the claims on {name!r} do not settle")


class NameClaims:
    def __init__(self, storage: BaseBackend, prefix: str, is_live: Callable[[str, str], Awaitable[bool]]) -> None:
        self.storage = storage
        self.prefix = prefix
        self.is_live = is_live

    def _dir(self, name: str) -> str:
        return f"{self.prefix}{hashlib.sha256(name.encode()).hexdigest()}/"

    async def newest(self, name: str) -> tuple[int, str | None]:
        """(generation, holder) of the newest claim; (0, None) if none."""
        for _ in range(_ATTEMPTS):
            # Every page: a busy name holds more than one page of
            # generations younger than PRUNE_AFTER.
            entries = [entry async for entry in self.storage.iter_all(self._dir(name))]
            if not entries:
                return 0, None
            try:
                holder = (await self.storage.get_json(entries[-1].key))["holder"]
            except NotFound:  # the folder deleted meanwhile: look again
                continue
            await self._prune(entries)
            return int(entries[-1].key.rpartition("/")[2]), holder
        raise _unsettled(name)

    async def _prune(self, entries: list[Entry]) -> None:
        """Delete the generations before the newest ``_KEEP`` that are old
        enough: an old generation left behind costs only a longer listing."""
        cutoff = entries[-1].modified - PRUNE_AFTER
        old = [entry.key for entry in entries[:-_KEEP] if entry.modified < cutoff]
        with contextlib.suppress(StorageUnavailable):
            await asyncio.gather(*(self.storage.delete(key) for key in old))

    async def holder(self, name: str) -> str | None:
        """The live holder of ``name``, if any."""
        _, holder = await self.newest(name)
        return holder if holder is not None and await self.is_live(name, holder) else None

    async def claim(self, name: str, holder: str, newest: tuple[int, str | None] | None = None) -> str | None:
        """Take ``name`` for ``holder`` unless it is held: return None when
        taken, the current holder otherwise. ``newest``: what ``newest(name)``
        answered a moment ago, which saves the first listing (should another
        writer have come in between, the write finds out and looks again)."""
        for _ in range(_ATTEMPTS):
            generation, current = newest if newest is not None else await self.newest(name)
            newest = None
            if current is not None and current != holder and await self.is_live(name, current):
                return current
            if await self._write(name, generation + 1, holder):
                return None
        raise _unsettled(name)

    async def take(self, name: str, holder: str) -> str | None:
        """Take ``name`` for ``holder`` whoever holds it; return the previous
        holder, which the caller deletes (None if there was none)."""
        for _ in range(_ATTEMPTS):
            generation, current = await self.newest(name)
            if await self._write(name, generation + 1, holder):
                return current
        raise _unsettled(name)

    async def _write(self, name: str, generation: int, holder: str) -> bool:
        try:
            key = f"{self._dir(name)}{generation:0{_DIGITS}d}"
            await self.storage.put_json(key, {"holder": holder}, if_absent=True)
        except AlreadyExists:
            return False
        return True
