"""Folders and their files in storage (where each is kept: ``keys.py``).

An upload (``add_file``, answered once its last round has landed) writes in
three rounds, what each round holds at once:

1. the job (``jobs.py``; its lease is then held while the upload runs),
   while the folder and the claims on the name are read and a small body
   (one read of the upload stream) is received whole;
2. a larger body's bytes;
3. the record, the small body's bytes, the two index entries and the
   name claim; in ``replace`` mode the take-over of the name comes after
   the rest has landed, so that a replace that fails leaves the old file
   its name. A file stored as ``name_(N).ext`` also gets a marker of the
   name it was uploaded as (``_same_original``), with its renamed record;
   one that bears that name needs none: its claim says so.

Why this order holds, and what a crash at any point leaves:

- Everything comes after the job, so whatever a crash leaves has a job
  whose lease runs out; the scan that takes it over (``processing.py``)
  decides: no record: what the job names is removed (bytes, index entries,
  marker, then the job); a record that does not hold its name, or holds it
  without the bytes: removed, as the upload was not answered; a record
  holding its name with its bytes: processed, its index entries (and
  marker) written again in case the cut left them out. No cut upload stays
  ``pending`` for ever, and no name is held by something invisible for
  longer than its upload's lease.
- The claim may land before the record: a racing upload that finds the
  claim but no record asks the job, whose running lease says the upload
  is alive; once the lease has run out the name is free again.
- Listings read the record of each index entry and skip entries without
  one, so a cut upload is never listed before its record exists, and
  then as ``pending`` until the scan removes it.
- Bytes without a job or a record (a cut delete) are collected after a
  grace (``collect_orphans``).

In ``suffix`` mode a name found taken is retried as ``name_(N).ext``, the
record rewritten before each claim. Deletes go the other way round with the
record last, then the job: a crash leaves at worst a file that is listed
and can be deleted again, or a job whose scan finishes the delete. While
uploads of one name race, a listing may briefly show the losers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, Literal

from aiohttp import web

from backends import BaseBackend, Blob, NotFound

from ..records import read_each, together
from . import keys
from .claims import NameClaims
from .exceptions import DuplicateName, FileNotFound, FolderNotFound, NameTaken, TooManyCopies
from .index import Order, TimeIndex
from .jobs import Job, Jobs
from .listing import READ_CONCURRENCY, FolderPages, not_a_cursor
from .models import (
    CreateFolder,
    FileMetadata,
    FileStats,
    Folder,
    SourcesStats,
    SourceStats,
    UpdateFolder,
    new_id,
    now,
)

Duplicates = Literal["skip", "error", "suffix", "replace"]
#: Copies ``name_(N).ext`` tried before an upload in suffix mode gives up.
MAX_SUFFIX = 10_000


def suffixed(name: str, n: int) -> str:
    """``name`` for n == 0, else ``stem_(n).ext``."""
    if n == 0:
        return name
    path = PurePosixPath(name)
    return f"{name[: len(name) - len(path.suffix)]}_({n}){path.suffix}"


class FolderStore:
    def __init__(self, storage: BaseBackend, job_lease: float = 0, upload_lease: float = 30) -> None:
        """``upload_lease``: the lease an upload holds on its file's job while
        it runs; ``job_lease``: seconds a new file's processing is then left
        to this process before any replica may take it (0: at once). When it
        is ``upload_lease``, the job keeps what is left of the upload's lease
        (two thirds of it at least), which saves the upload a write."""
        self.storage = storage
        self.job_lease = job_lease
        self.upload_lease = upload_lease
        self.jobs = Jobs(storage)
        self.folder_names = NameClaims(storage, keys.FOLDER_NAMES, self._folder_holds)
        self.folder_index = TimeIndex(storage, keys.FOLDER_INDEX)
        self.folder_pages = FolderPages(storage, self.folder_index, keys.folder)

    # Folders

    async def _folder_holds(self, name: str, folder_id: str) -> bool:
        try:
            return (await self.get_folder(folder_id)).name == name
        except FolderNotFound:
            return False

    async def get_folder(self, folder_id: str) -> Folder:
        try:
            return Folder.model_validate(await self.storage.get_json(keys.folder(folder_id)))
        except NotFound:
            raise FolderNotFound(f"Folder '{folder_id}' not found") from None

    async def create_folder(self, request: CreateFolder) -> Folder:
        created = now()
        folder = Folder(
            id=new_id("source"),
            name=request.name,
            description=request.description,
            instructions=request.instructions,
            metadata=request.metadata,
            embedding_config=request.config(),
            created_at=created,
            updated_at=created,
        )
        try:
            await self.folder_pages.save(folder, new=True)
            if await self.folder_names.claim(folder.name, folder.id) is not None:
                raise NameTaken(f"A folder named '{folder.name}' already exists")
        except BaseException:
            await asyncio.shield(self._remove_folder(folder))
            raise
        return folder

    async def update_folder(self, folder_id: str, request: UpdateFolder) -> Folder:
        """A new name is written before it is claimed, as on create, so that
        the claim's holder is seen to hold it (the claim goes with the last
        of ``save``'s writes); a lost claim puts the old back."""
        folder = await self.get_folder(folder_id)
        changes = {name: getattr(request, name) for name in request.model_fields_set}
        updated = folder.model_copy(update=changes | {"updated_at": now()})
        renamed = updated.name != folder.name
        claim = (lambda: self.folder_names.claim(updated.name, folder.id)) if renamed else None
        if await self.folder_pages.save(updated, new=False, claim=claim) is not None:
            await self.folder_pages.save(folder, new=False)
            raise NameTaken(f"A folder named '{updated.name}' already exists")
        return updated

    async def delete_folder(self, folder_id: str) -> None:
        folder = await self.get_folder(folder_id)
        await self.storage.delete_prefix(keys.files(folder_id))
        await self._remove_folder(folder)

    async def _remove_folder(self, folder: Folder) -> None:
        await self.folder_index.remove(folder.created_at, folder.id)
        await self.storage.delete(keys.folder(folder.id))

    async def list_folders(
        self, order: Order, limit: int, after: str | None, before: str | None, name: str | None
    ) -> list[Folder]:
        if name is None:
            return await self.folder_pages.page(order, limit, after, before)
        start, stop = await self._cursor(after, self.get_folder), await self._cursor(before, self.get_folder)
        # A name is held by one folder at most: a page of one or none.
        folder = await self._named(name)
        if folder is None:
            return []
        point, sign = (folder.created_at, folder.id), 1 if order == "asc" else -1
        if start is not None and sign * _compare(point, start) <= 0:
            return []
        return [folder] if stop is None or sign * _compare(point, stop) < 0 else []

    async def _named(self, name: str) -> Folder | None:
        holder = await self.folder_names.holder(name)
        try:
            return await self.get_folder(holder) if holder else None
        except FolderNotFound:  # deleted since
            return None

    async def folder_by_name(self, name: str) -> Folder:
        if (folder := await self._named(name)) is None:
            raise FolderNotFound(f"Folder with name={name} not found.")
        return folder

    async def _folder_ids(self) -> list[str]:
        return [keys.folder_id_of(entry.key) async for entry in self.storage.iter_all(keys.FOLDERS)]

    async def count_folders(self) -> int:
        """One listing of the folder records, none of them read."""
        return len(await self._folder_ids())

    async def stats(self, detailed: bool) -> SourcesStats:
        """Totals over every folder from listings of the stored bytes (a
        blob's size is the file's); only ``detailed`` reads the file records,
        for their names. Folders by name, files by file name, as upstream."""
        folder_ids = await self._folder_ids()
        folders = [
            f for f in await read_each(folder_ids, self.get_folder, FolderNotFound, READ_CONCURRENCY) if f is not None
        ]
        limit = asyncio.Semaphore(READ_CONCURRENCY)

        async def one(folder: Folder) -> SourceStats:
            async with limit:
                blobs = [entry async for entry in self.storage.iter_all(keys.blobs(folder.id))]
            files = []
            if detailed:
                ids = [entry.key.rpartition("/")[2] for entry in blobs]
                metas = await read_each(ids, lambda i: self.get_file(folder.id, i), FileNotFound, READ_CONCURRENCY)
                files = sorted(
                    (FileStats(file_id=m.id, file_name=m.file_name, file_size=m.file_size) for m in metas if m),
                    key=lambda f: (f.file_name, f.file_id),
                )
            return SourceStats(
                source_id=folder.id,
                source_name=folder.name,
                file_count=len(blobs),
                total_size=sum(entry.size for entry in blobs),
                files=files,
            )

        per_folder = await asyncio.gather(*(one(f) for f in folders))
        per_folder.sort(key=lambda s: (s.source_name, s.source_id))
        return SourcesStats(
            total_sources=len(per_folder),
            total_files=sum(s.file_count for s in per_folder),
            total_size=sum(s.total_size for s in per_folder),
            sources=per_folder if detailed else [],
        )

    @staticmethod
    async def _cursor(item_id: str | None, get) -> tuple[datetime, str] | None:
        if item_id is None:
            return None
        try:
            item = await get(item_id)
        except (FolderNotFound, FileNotFound):
            raise not_a_cursor(item_id) from None
        return item.created_at, item.id

    # Files

    def _index(self, folder_id: str) -> TimeIndex:
        return TimeIndex(self.storage, keys.index(folder_id))

    def _names(self, folder_id: str) -> NameClaims:
        async def holds(name: str, file_id: str) -> bool:
            try:
                return (await self.get_file(folder_id, file_id)).file_name == name
            except FileNotFound:
                # Its upload claims before its record has landed (see the
                # module's docstring): held while the upload's lease runs.
                return await self.jobs.is_live(file_id)

        return NameClaims(self.storage, keys.names(folder_id), holds)

    async def get_file(self, folder_id: str, file_id: str, include_content: bool = False) -> FileMetadata:
        try:
            meta = FileMetadata.model_validate(await self.storage.get_json(keys.record(folder_id, file_id)))
        except NotFound:
            raise FileNotFound(f"File '{file_id}' not found in folder '{folder_id}'") from None
        if include_content:
            meta.content = await self.content(meta)
        return meta

    async def content(self, meta: FileMetadata) -> str | None:
        try:
            return (await self.storage.get_bytes(keys.content(meta.source_id, meta.id))).decode()
        except NotFound:  # not extracted yet
            return None

    async def list_files(
        self, folder_id: str, order: Order, limit: int, after: str | None, before: str | None, include_content: bool
    ) -> list[FileMetadata]:
        def get(file_id: str, include_content: bool = False):
            return self.get_file(folder_id, file_id, include_content)

        start, stop = await self._cursor(after, get), await self._cursor(before, get)
        ids = await self._index(folder_id).page(order, limit, start, stop)
        files = await read_each(ids, lambda file_id: get(file_id, include_content), FileNotFound, READ_CONCURRENCY)
        return [f for f in files if f is not None]

    async def add_file(
        self, folder_id: str, name: str, file_type: str, chunks: AsyncIterable[bytes], mode: Duplicates
    ) -> tuple[FileMetadata, bool]:
        """Store an upload under ``name`` as ``mode`` says in the folder, which
        is read with the first round's writes; return the file and whether
        it was skipped as a duplicate. The order of the writes, and why each
        crash state is handled, is in the module's docstring."""
        meta, names = _new_file(folder_id, name, file_type), self._names(folder_id)
        if mode in ("error", "skip"):
            # Upstream's duplicate: a file uploaded under the same name, even
            # if it was stored as name_(N).ext. Answered before the body is
            # read; the claim below still decides races.
            folder, existing = await together(self.get_folder(folder_id), self._same_original(folder_id, name))
            if existing is not None:
                if mode == "error":
                    raise _exists(folder, name)
                return existing, True
            folder_read: Awaitable[Folder] = _ready(folder)
        else:
            folder_read = self.get_folder(folder_id)
        job = Job(folder_id=folder_id, file_name=name, created_at=meta.created_at)
        try:
            newest, body, _, folder = await together(
                names.newest(name),
                _whole_or_stream(chunks),
                self.jobs.lease(meta.id, job, self.upload_lease),
                folder_read,
            )
            async with self.jobs.holding(meta.id, job, self.upload_lease, leased=True):
                blob = keys.blob(folder_id, meta.id)
                if isinstance(body, bytes):
                    meta.file_size = len(body)
                else:  # a large body: its record needs its size
                    meta.file_size = (await self.storage.put(blob, body, content_type=file_type)).size
                writes: list[Awaitable[Any]] = [self._write_entries(meta)]
                if isinstance(body, bytes):
                    writes.append(self.storage.put_bytes(blob, body, content_type=file_type))
                if mode == "replace":
                    # The name moves only once the new file is whole: an upload
                    # that fails here leaves the old file its name.
                    await together(*writes)
                    holder = await names.take(name, meta.id)
                else:
                    # A large body streamed since the claims were read: read them again.
                    seen = newest if isinstance(body, bytes) else None
                    holder = (await together(names.claim(name, meta.id, seen), *writes))[0]
                stored, skipped = await self._settle(folder, meta, names, mode, holder)
            if not skipped and self.job_lease < self.upload_lease:
                # The lease the upload left is this process's time to start
                # processing; shorten it to what was asked.
                job.lease_until = time.time() + self.job_lease
                await self.jobs.put(meta.id, job)
            return stored, skipped
        except BaseException:
            await asyncio.shield(self.remove_file(meta))
            raise

    async def _write_entries(self, meta: FileMetadata) -> None:
        """The record and the index entries that list it."""
        await together(
            self.storage.put_json(keys.record(meta.source_id, meta.id), meta.wire()),
            self._index(meta.source_id).add(meta.created_at, meta.id),
        )

    async def _mark_original(self, meta: FileMetadata) -> None:
        """The marker that finds a file stored under another name than it was uploaded as."""
        await self.storage.put_bytes(keys.original(meta.source_id, meta.original_file_name, meta.id), b"")

    async def _settle(
        self, folder: Folder, meta: FileMetadata, names: NameClaims, mode: Duplicates, holder: str | None
    ) -> tuple[FileMetadata, bool]:
        """What ``mode`` makes of the first claim on the upload's name:
        ``holder`` is who else holds it (for ``replace``, who held it)."""
        if mode == "replace":
            if holder is not None:
                with contextlib.suppress(FileNotFound):  # already gone
                    await self.delete_file(folder.id, holder)
            return meta, False
        for n in range(1, MAX_SUFFIX):
            if holder is None:
                return meta, False
            if mode == "suffix":
                meta = meta.model_copy(update={"file_name": suffixed(meta.original_file_name, n)})
                # Written before it is claimed, so that the claim's holder is seen to hold it.
                await together(
                    self.storage.put_json(keys.record(folder.id, meta.id), meta.wire()), self._mark_original(meta)
                )
            elif (existing := await self._duplicate(folder, meta.file_name, holder, mode)) is not None:
                await self.remove_file(meta)
                return existing, True
            # (else the holder was deleted meanwhile: claim again)
            holder = await names.claim(meta.file_name, meta.id)
        if holder is None:
            return meta, False
        raise TooManyCopies(f"File '{meta.original_file_name}' has too many copies in folder '{folder.name}'")

    async def _duplicate(self, folder: Folder, name: str, holder: str, mode: Duplicates) -> FileMetadata | None:
        """What ``mode`` makes of a name held by ``holder``: a refusal, or
        the file to answer with (None if it has just been deleted)."""
        if mode == "error":
            raise _exists(folder, name)
        try:
            return await self.get_file(folder.id, holder)
        except FileNotFound:
            return None

    async def _same_original(self, folder_id: str, original: str) -> FileMetadata | None:
        """A file of the folder uploaded as ``original``, preferably the one
        that bears that name (its claim finds it), else one stored as
        ``original_(N)`` (its marker does); only files holding their name
        count, not uploads still racing for one."""
        names = self._names(folder_id)
        holder = await names.holder(original)
        others = await self.storage.list(keys.original(folder_id, original), limit=100)
        for file_id in ([holder] if holder else []) + [entry.key.rpartition("/")[2] for entry in others]:
            try:
                meta = await self.get_file(folder_id, file_id)
            except FileNotFound:  # deleted meanwhile, or its upload is still running
                continue
            if file_id == holder or await names.holder(meta.file_name) == file_id:
                return meta
        return None

    async def delete_file(self, folder_id: str, file_id: str) -> None:
        await self.remove_file(await self.get_file(folder_id, file_id))

    async def remove_file(self, meta: FileMetadata) -> None:
        """The record goes last but for the job, so that an interrupted delete
        can be redone: by a client while the record is listed, then by the
        scan that takes over the job."""
        folder_id = meta.source_id
        await together(
            self.storage.delete(keys.blob(folder_id, meta.id)),
            self.storage.delete(keys.content(folder_id, meta.id)),
            self._index(folder_id).remove(meta.created_at, meta.id),
            self.storage.delete(keys.original(folder_id, meta.original_file_name, meta.id)),
        )
        await self.storage.delete(keys.record(folder_id, meta.id))
        await self.jobs.remove(meta.id)

    # Processing and what crashes leave

    async def holds_name(self, meta: FileMetadata) -> bool:
        """Whether the file holds its name: no other upload took or replaced it."""
        return await self._names(meta.source_id).holder(meta.file_name) == meta.id

    async def remove_cut_upload(self, file_id: str, job: Job) -> None:
        """Remove what an upload cut before its record landed may have
        written, found from its job, the job last."""
        folder_id = job.folder_id
        removals: list[Awaitable[Any]] = [self.storage.delete(keys.blob(folder_id, file_id))]
        if job.file_name is not None and job.created_at is not None:  # (not in older versions' jobs)
            removals += [
                self._index(folder_id).remove(job.created_at, file_id),
                self.storage.delete(keys.original(folder_id, job.file_name, file_id)),
            ]
        await together(*removals)
        await self.jobs.remove(file_id)

    async def complete_cut_upload(self, meta: FileMetadata) -> bool:
        """For a file that holds its name but whose upload may have been cut
        (its job was taken over): whether its bytes are stored. If they
        are, the upload's last rounds may still have left out an index entry
        or, for a renamed file, the original's marker: written again (the
        same empty objects)."""
        if not await self._exists(keys.blob(meta.source_id, meta.id)):
            return False
        writes = [self._index(meta.source_id).add(meta.created_at, meta.id)]
        if meta.file_name != meta.original_file_name:
            writes.append(self._mark_original(meta))
        await together(*writes)
        return True

    async def collect_orphans(self, grace: float) -> int:
        """Delete the bytes older than ``grace`` seconds of files with neither
        a record nor a job; return how many. An upload writes its job before
        its bytes and its record before its job is removed, so the bytes of
        one in progress always have one of them."""
        collected, before = 0, time.time() - grace
        for folder_id in await self._folder_ids():
            async for entry in self.storage.iter_all(keys.blobs(folder_id)):
                file_id = entry.key.rpartition("/")[2]
                if entry.modified > before or await self.jobs.exists(file_id):
                    continue
                if not await self._exists(keys.record(folder_id, file_id)):
                    await self.storage.delete(entry.key)
                    collected += 1
        return collected

    async def _exists(self, key: str) -> bool:
        try:
            await self.storage.stat(key)
        except NotFound:
            return False
        return True

    async def save_progress(self, meta: FileMetadata) -> bool:
        """Write a processed file's record unless the file was deleted
        meanwhile (then undo the write); return whether it still exists."""
        meta.updated_at = now()
        await self.storage.put_json(keys.record(meta.source_id, meta.id), meta.wire())
        try:
            await self.storage.stat(keys.blob(meta.source_id, meta.id))
        except NotFound:
            await self.storage.delete(keys.content(meta.source_id, meta.id))
            await self.storage.delete(keys.record(meta.source_id, meta.id))
            return False
        return True

    def open_blob(self, meta: FileMetadata) -> contextlib.AbstractAsyncContextManager[Blob]:
        return self.storage.open(keys.blob(meta.source_id, meta.id))

    def open_content(self, meta: FileMetadata) -> contextlib.AbstractAsyncContextManager[Blob]:
        return self.storage.open(keys.content(meta.source_id, meta.id))

    async def put_content(self, meta: FileMetadata, text: AsyncIterable[bytes]) -> None:
        """Store the extracted text (UTF-8)."""
        await self.storage.put(keys.content(meta.source_id, meta.id), text, content_type="text/plain")


def _new_file(folder_id: str, name: str, file_type: str) -> FileMetadata:
    created = now()
    return FileMetadata(
        id=new_id("file"),
        source_id=folder_id,
        file_name=name,
        original_file_name=name,
        file_type=file_type,
        file_size=0,
        file_creation_date=created.isoformat(),
        file_last_modified_date=created.isoformat(),
        created_at=created,
        updated_at=created,
    )


async def _whole_or_stream(chunks: AsyncIterable[bytes]) -> bytes | AsyncIterator[bytes]:
    """The body whole if it comes as one chunk (one read of the upload
    stream, 256 KiB at most), else a stream of all of it."""
    iterator = aiter(chunks)
    first = await anext(iterator, b"")
    second = await anext(iterator, None)
    if second is None:
        return first

    async def stream() -> AsyncIterator[bytes]:
        yield first
        yield second
        async for chunk in iterator:
            yield chunk

    return stream()


async def _ready(folder: Folder) -> Folder:
    return folder


def _exists(folder: Folder, name: str) -> DuplicateName:
    return DuplicateName(f"INVALID_ARGUMENT: File '{name}' already exists in folder '{folder.name}'")


def _compare(a: tuple[datetime, str], b: tuple[datetime, str]) -> int:
    return (a > b) - (a < b)


FOLDERS = web.AppKey("folders", FolderStore)
