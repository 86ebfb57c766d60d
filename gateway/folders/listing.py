"""Folder pages from one listing of the index, records read only on change.

Folders change (PATCH), so unlike sessions their records cannot be copied
once. Instead each index entry (``index.py``) holds the version of the
record it was written for: the hash of the record's bytes and a nonce
unique to the write, so that no two writes give an entry the same etag,
not even where etags are content hashes (S3). Then:

- a process caches each folder under (entry key, entry etag), but only
  from reads that agree: the record and the entry, read together, name the
  same version; a page is one listing of ``limit`` entries, a cached folder
  for each entry whose etag is known, and reads only for the others;
- a change writes the entries, then the record, then the entries again
  (``save``): every write of an existing record is followed by a write of
  its entries naming it, so a cached (entry etag, folder) pair outlives no
  record write, however PATCHes interleave; the first write makes a change
  cut before its second one safe (see below). A new folder's record goes
  first, as before: an entry never names a folder that was never written,
  so pages are never cut short by entries to skip; a create cut between
  the two leaves a folder that GET opens and DELETE removes but no page
  lists (a delete removes the entries first, so a cut one leaves the same);
- a cursor's position (its creation time, which never changes) comes from
  the cache too; that the cursor still exists is checked at the same time
  as the page is listed, so a deleted cursor still gets its 400.

A change cut after its first entries write leaves entries that do not
name the record: those folders are read at every page, never cached, and
once the entry is older than ``grace`` the read rewrites it for the record
it found (with a new nonce). The grace keeps reads from rewriting the
entries of a PATCH still running (storage calls time out well within it);
a rewrite that lands amid one anyway is overwritten by its last write. A
change cut after its record write leaves entries that name that record
(its first write), so it is cached as it is.

Two PATCHes of one folder that race leave the record of the one whose
record write came last. A process may have cached the other's folder
just before that write; it serves it until the last PATCH's second
entries write lands, one storage round later. Only if that PATCH is cut
right there (a race and a crash at once) does it serve it longer: until
the entries are written again, by the next change of the folder or by a
repair (after the grace) of a process that reads the folder because it
has not cached it.

Entries written empty by older versions are repaired the same way as cut
changes, so existing data keeps paging.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime

from backends import BaseBackend, Entry, NotFound, ObjectChanged

from ..records import read_each, together
from .exceptions import BadCursor
from .index import Order, TimeIndex
from .models import Folder

#: Entries older than this that do not name their record are rewritten.
GRACE = 300.0
#: Folders cached per process (in either order's entry); LRU beyond.
CACHED = 10_000
#: Creation times of cursors kept per process.
CURSORS = 100_000
#: Records read at once (pages, stats, file pages): a default page of 50 in one round.
READ_CONCURRENCY = 50


def record_bytes(folder: Folder) -> bytes:
    return json.dumps(folder.wire(), separators=(",", ":")).encode()


def _version(record: bytes) -> bytes:
    return hashlib.sha256(record).hexdigest()[:32].encode()


def entry_content(record: bytes) -> bytes:
    """What the index entries of a record hold: its version, and a nonce."""
    return _version(record) + b" " + uuid.uuid4().hex.encode()


class FolderPages:
    def __init__(
        self, storage: BaseBackend, index: TimeIndex, record_key: Callable[[str], str], grace: float = GRACE
    ) -> None:
        self.storage = storage
        self.index = index
        self.record_key = record_key
        self.grace = grace
        self._folders: OrderedDict[tuple[str, str], Folder] = OrderedDict()
        self._created: OrderedDict[str, datetime] = OrderedDict()

    async def save(
        self, folder: Folder, *, new: bool, claim: Callable[[], Awaitable[str | None]] | None = None
    ) -> str | None:
        """Write the folder's record and its index entries, in the order the
        module docstring gives. ``claim`` (of a new name, which needs the
        record written) runs with the last write, saving a round; its
        answer is returned once both have landed."""
        record = record_bytes(folder)
        if not new:
            await self.index.add(folder.created_at, folder.id, entry_content(record))
        await self.storage.put_bytes(self.record_key(folder.id), record, content_type="application/json")
        claimed = claim() if claim else _none()
        return (await together(self.index.add(folder.created_at, folder.id, entry_content(record)), claimed))[1]

    async def page(self, order: Order, limit: int, after: str | None, before: str | None) -> list[Folder]:
        """The folders of one page, as ``TimeIndex.page`` orders them."""
        (start, check_start), (stop, check_stop) = [await self._position(c) for c in (after, before)]
        checked = [c for c, check in ((after, check_start), (before, check_stop)) if c is not None and check]
        listed, gone = await asyncio.gather(self.index.page_entries(order, limit, start, stop), self._gone(checked))
        if gone is not None:
            raise not_a_cursor(gone)
        cached = {entry.key: self._cached(entry) for _, entry in listed}
        misses = [(item_id, entry) for item_id, entry in listed if cached[entry.key] is None]
        read = await read_each(misses, self._read, NotFound, READ_CONCURRENCY)
        cached.update((entry.key, folder) for (_, entry), folder in zip(misses, read, strict=True))
        return [folder for _, entry in listed if (folder := cached[entry.key]) is not None]

    def _cached(self, entry: Entry) -> Folder | None:
        folder = self._folders.get((entry.key, entry.etag))
        if folder is not None:
            self._folders.move_to_end((entry.key, entry.etag))
        return folder

    async def _position(self, item_id: str | None) -> tuple[tuple[datetime, str] | None, bool]:
        """The cursor's position, and whether it must still be checked to
        exist (it came from the cache)."""
        if item_id is None:
            return None, False
        created = self._created.get(item_id)
        if created is not None:
            return (created, item_id), True
        try:
            folder = Folder.model_validate_json(await self.storage.get_bytes(self.record_key(item_id)))
        except NotFound:
            raise not_a_cursor(item_id) from None
        self._remember(folder)
        return (folder.created_at, item_id), False

    async def _gone(self, item_ids: list[str]) -> str | None:
        """The first of the items that no longer exists, if any."""
        for item_id in item_ids:
            try:
                await self.storage.stat(self.record_key(item_id))
            except NotFound:
                return item_id
        return None

    async def _read(self, listed: tuple[str, Entry]) -> Folder:
        """The record of a listed entry; cached if the two agree, the entry
        repaired if they have not for longer than the grace."""
        item_id, entry = listed
        record, index = await asyncio.gather(self.storage.get_bytes(self.record_key(item_id)), self._entry(entry.key))
        folder = Folder.model_validate_json(record)
        self._remember(folder)
        if index is None:  # being deleted or rewritten: check at the next page
            return folder
        content, info = index
        if content.partition(b" ")[0] == _version(record):
            self._folders[entry.key, info.etag] = folder
            while len(self._folders) > CACHED:
                self._folders.popitem(last=False)
        elif info.modified < time.time() - self.grace:
            await self.index.add(folder.created_at, folder.id, entry_content(record))
        return folder

    async def _entry(self, key: str) -> tuple[bytes, Entry] | None:
        """The entry's content and the etag of that version."""
        try:
            async with self.storage.open(key) as blob:
                return b"".join([chunk async for chunk in blob.stream()]), blob.info
        except (NotFound, ObjectChanged):
            return None

    def _remember(self, folder: Folder) -> None:
        self._created[folder.id] = folder.created_at
        self._created.move_to_end(folder.id)
        while len(self._created) > CURSORS:
            self._created.popitem(last=False)


async def _none() -> None:
    return None


def not_a_cursor(item_id: str | None) -> BadCursor:
    return BadCursor(f"Cursor '{item_id}' is not an item of this listing")
