"""Folders and their files in storage.

- ``folders/<id>.json``: the folder; ``folder-names/``: unique folder names
  (see ``claims.py``); ``folder-index/``: folders by creation time, each
  entry naming its record's version (see ``listing.py``);
- ``folder-files/<folder id>/``: everything of one folder's files, removed
  with the folder: ``records/<id>.json`` (the FileMetadata), ``blobs/<id>``
  (the bytes), ``content/<id>`` (the extracted text), ``names/`` (claims
  on file names), ``originals/<sha256(name)>/<id>`` (which files were
  uploaded under a name) and ``index/``;
- ``folder-jobs/<file id>.json``: files still to be processed (``jobs.py``).

An upload goes job (its lease held while the upload runs), bytes, record,
index, original, then name claim; the upload is answered once the claim is
taken. A crash between two steps leaves a job whose lease runs out, and the
scan that takes it over removes the file unless it holds its name
(``processing.py``): so no cut upload stays ``pending`` for ever, and no
name is ever held by something invisible. Deletes go the other way round
with the record last: a crash leaves at worst a file that is listed and can
be deleted again. While uploads of one name race, a listing may briefly
show the losers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import AsyncIterable
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal

from aiohttp import web

from backends import BaseBackend, NotFound

from ..http.errors import ApiError, bad_request, not_found
from ..records import read_each
from .claims import NameClaims
from .index import Order, TimeIndex
from .jobs import holding, job_key
from .listing import FolderPages, not_a_cursor
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
#: Records read at once for a page: a default page of 50 in one round.
READ_CONCURRENCY = 50
#: Copies ``name_(N).ext`` tried before an upload in suffix mode gives up.
MAX_SUFFIX = 10_000


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


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
        to this process (``owner``) before any replica may take it (0: at once)."""
        self.storage = storage
        self.job_lease = job_lease
        self.upload_lease = upload_lease
        self.owner = str(uuid.uuid4())
        self.folder_names = NameClaims(storage, "folder-names/", self._folder_holds)
        self.folder_index = TimeIndex(storage, "folder-index/")
        self.folder_pages = FolderPages(storage, self.folder_index, self._folder_key)

    # Folders

    def _folder_key(self, folder_id: str) -> str:
        return f"folders/{folder_id}.json"

    async def _folder_holds(self, name: str, folder_id: str) -> bool:
        try:
            return (await self.get_folder(folder_id)).name == name
        except ApiError:
            return False

    async def get_folder(self, folder_id: str) -> Folder:
        try:
            return Folder.model_validate(await self.storage.get_json(self._folder_key(folder_id)))
        except NotFound:
            raise not_found(f"Folder '{folder_id}' not found") from None

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
                raise conflict(f"A folder named '{folder.name}' already exists")
        except BaseException:
            await asyncio.shield(self._remove_folder(folder))
            raise
        return folder

    async def update_folder(self, folder_id: str, request: UpdateFolder) -> Folder:
        """A new name is written before it is claimed, as on create, so that
        the claim's holder is seen to hold it; a lost claim puts the old back."""
        folder = await self.get_folder(folder_id)
        changes = {name: getattr(request, name) for name in request.model_fields_set}
        updated = folder.model_copy(update=changes | {"updated_at": now()})
        await self.folder_pages.save(updated, new=False)
        if updated.name != folder.name and await self.folder_names.claim(updated.name, folder.id) is not None:
            await self.folder_pages.save(folder, new=False)
            raise conflict(f"A folder named '{updated.name}' already exists")
        return updated

    async def delete_folder(self, folder_id: str) -> None:
        folder = await self.get_folder(folder_id)
        await self.storage.delete_prefix(f"folder-files/{folder_id}/")
        await self._remove_folder(folder)

    async def _remove_folder(self, folder: Folder) -> None:
        await self.folder_index.remove(folder.created_at, folder.id)
        await self.storage.delete(self._folder_key(folder.id))

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
        except ApiError:  # deleted since
            return None

    async def folder_by_name(self, name: str) -> Folder:
        if (folder := await self._named(name)) is None:
            raise not_found(f"Folder with name={name} not found.")
        return folder

    async def _folder_ids(self) -> list[str]:
        return [entry.key[len("folders/") : -len(".json")] async for entry in self.storage.iter_all("folders/")]

    async def count_folders(self) -> int:
        """One listing of the folder records, none of them read."""
        return len(await self._folder_ids())

    async def stats(self, detailed: bool) -> SourcesStats:
        """Totals over every folder from listings of the stored bytes (a
        blob's size is the file's); only ``detailed`` reads the file records,
        for their names. Folders by name, files by file name, as upstream."""
        folder_ids = await self._folder_ids()
        folders = [f for f in await read_each(folder_ids, self.get_folder, ApiError, READ_CONCURRENCY) if f is not None]
        limit = asyncio.Semaphore(READ_CONCURRENCY)

        async def one(folder: Folder) -> SourceStats:
            async with limit:
                blobs = [entry async for entry in self.storage.iter_all(self._blobs(folder.id))]
            files = []
            if detailed:
                ids = [entry.key.rpartition("/")[2] for entry in blobs]
                metas = await read_each(ids, lambda i: self.get_file(folder.id, i), ApiError, READ_CONCURRENCY)
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
        except ApiError:
            raise not_a_cursor(item_id) from None
        return item.created_at, item.id

    # Files

    def _files(self, folder_id: str) -> str:
        return f"folder-files/{folder_id}/"

    def record_key(self, folder_id: str, file_id: str) -> str:
        return f"{self._files(folder_id)}records/{file_id}.json"

    def _blobs(self, folder_id: str) -> str:
        return f"{self._files(folder_id)}blobs/"

    def blob_key(self, folder_id: str, file_id: str) -> str:
        return f"{self._blobs(folder_id)}{file_id}"

    def content_key(self, folder_id: str, file_id: str) -> str:
        return f"{self._files(folder_id)}content/{file_id}"

    def _index(self, folder_id: str) -> TimeIndex:
        return TimeIndex(self.storage, f"{self._files(folder_id)}index/")

    def _names(self, folder_id: str) -> NameClaims:
        async def holds(name: str, file_id: str) -> bool:
            try:
                return (await self.get_file(folder_id, file_id)).file_name == name
            except ApiError:
                return False

        return NameClaims(self.storage, f"{self._files(folder_id)}names/", holds)

    async def get_file(self, folder_id: str, file_id: str, include_content: bool = False) -> FileMetadata:
        try:
            meta = FileMetadata.model_validate(await self.storage.get_json(self.record_key(folder_id, file_id)))
        except NotFound:
            raise not_found(f"File '{file_id}' not found in folder '{folder_id}'") from None
        if include_content:
            meta.content = await self.content(meta)
        return meta

    async def content(self, meta: FileMetadata) -> str | None:
        try:
            return (await self.storage.get_bytes(self.content_key(meta.source_id, meta.id))).decode()
        except NotFound:  # not extracted yet
            return None

    async def list_files(
        self, folder_id: str, order: Order, limit: int, after: str | None, before: str | None, include_content: bool
    ) -> list[FileMetadata]:
        def get(file_id: str, include_content: bool = False):
            return self.get_file(folder_id, file_id, include_content)

        start, stop = await self._cursor(after, get), await self._cursor(before, get)
        ids = await self._index(folder_id).page(order, limit, start, stop)
        files = await read_each(ids, lambda file_id: get(file_id, include_content), ApiError, READ_CONCURRENCY)
        return [f for f in files if f is not None]

    async def add_file(
        self, folder: Folder, name: str, file_type: str, chunks: AsyncIterable[bytes], mode: Duplicates
    ) -> tuple[FileMetadata, bool]:
        """Store an upload under ``name`` as ``mode`` says; return the file
        and whether it was skipped as a duplicate."""
        names = self._names(folder.id)
        # Upstream's duplicate: a file uploaded under the same name, even if
        # it was stored as name_(N).ext. Answered before the body is read;
        # the claim below still decides races.
        if mode in ("error", "skip") and (existing := await self._same_original(folder.id, name)) is not None:
            if mode == "error":
                raise _exists(folder, name)
            return existing, True
        created = now()
        meta = FileMetadata(
            id=new_id("file"),
            source_id=folder.id,
            file_name=name,
            original_file_name=name,
            file_type=file_type,
            file_size=0,
            file_creation_date=created.isoformat(),
            file_last_modified_date=created.isoformat(),
            created_at=created,
            updated_at=created,
        )
        key, job = job_key(meta.id), dict[str, object](folder_id=folder.id)
        try:
            async with holding(self.storage, key, job, self.owner, self.upload_lease):
                blob = self.blob_key(folder.id, meta.id)
                meta.file_size = (await self.storage.put(blob, chunks, content_type=file_type)).size
                await self.storage.put_json(self.record_key(folder.id, meta.id), meta.wire())
                await self._index(folder.id).add(created, meta.id)
                await self.storage.put_bytes(self._original_key(folder.id, name, meta.id), b"")
                stored, skipped = await self._claim(folder, meta, names, mode)
            if not skipped:  # (a skipped upload was removed, its job too)
                job["lease_until"] = time.time() + self.job_lease
                await self.storage.put_json(key, job)
            return stored, skipped
        except BaseException:
            await asyncio.shield(self.remove_file(meta))
            raise

    async def _claim(
        self, folder: Folder, meta: FileMetadata, names: NameClaims, mode: Duplicates
    ) -> tuple[FileMetadata, bool]:
        if mode == "replace":
            previous = await names.take(meta.file_name, meta.id)
            if previous is not None:
                with contextlib.suppress(ApiError):  # already gone
                    await self.delete_file(folder.id, previous)
            return meta, False
        for n in range(MAX_SUFFIX):
            if meta.file_name != (candidate := suffixed(meta.original_file_name, n if mode == "suffix" else 0)):
                meta = meta.model_copy(update={"file_name": candidate})
                await self.storage.put_json(self.record_key(folder.id, meta.id), meta.wire())
            holder = await names.claim(candidate, meta.id)
            if holder is None:
                return meta, False
            if mode == "suffix":
                continue
            existing = await self._duplicate(folder, candidate, holder, mode)
            if existing is not None:
                await self.remove_file(meta)
                return existing, True
            # The holder was deleted meanwhile: claim again.
        raise conflict(f"File '{meta.original_file_name}' has too many copies in folder '{folder.name}'")

    async def _duplicate(self, folder: Folder, name: str, holder: str, mode: Duplicates) -> FileMetadata | None:
        """What ``mode`` makes of a name held by ``holder``: a 400, or the
        file to answer with (None if it has just been deleted)."""
        if mode == "error":
            raise _exists(folder, name)
        try:
            return await self.get_file(folder.id, holder)
        except ApiError:
            return None

    def _original_key(self, folder_id: str, original: str, file_id: str = "") -> str:
        digest = hashlib.sha256(original.encode()).hexdigest()
        return f"{self._files(folder_id)}originals/{digest}/{file_id}"

    async def _same_original(self, folder_id: str, original: str) -> FileMetadata | None:
        """A file of the folder uploaded as ``original``, preferably the one
        that bears that name; only files holding their name count, not
        uploads still racing for one."""
        names = self._names(folder_id)
        holder = await names.holder(original)
        others = await self.storage.list(self._original_key(folder_id, original), limit=100)
        for file_id in ([holder] if holder else []) + [entry.key.rpartition("/")[2] for entry in others]:
            try:
                meta = await self.get_file(folder_id, file_id)
            except ApiError:  # deleted meanwhile
                continue
            if file_id == holder or await names.holder(meta.file_name) == file_id:
                return meta
        return None

    async def delete_file(self, folder_id: str, file_id: str) -> None:
        await self.remove_file(await self.get_file(folder_id, file_id))

    async def remove_file(self, meta: FileMetadata) -> None:
        """The record goes last, so that an interrupted delete can be redone."""
        folder_id = meta.source_id
        await self.remove_upload(folder_id, meta.id)
        await self.storage.delete(self.content_key(folder_id, meta.id))
        await self._index(folder_id).remove(meta.created_at, meta.id)
        await self.storage.delete(self._original_key(folder_id, meta.original_file_name, meta.id))
        await self.storage.delete(self.record_key(folder_id, meta.id))

    # Processing and what crashes leave

    async def holds_name(self, meta: FileMetadata) -> bool:
        """Whether the file holds its name: its upload was answered, and no
        other upload replaced it."""
        return await self._names(meta.source_id).holder(meta.file_name) == meta.id

    async def remove_upload(self, folder_id: str, file_id: str) -> None:
        """Remove the job and bytes of an upload that has no record."""
        await self.storage.delete(job_key(file_id))
        await self.storage.delete(self.blob_key(folder_id, file_id))

    async def collect_orphans(self, grace: float) -> int:
        """Delete the bytes older than ``grace`` seconds of files with neither
        a record nor a job; return how many. An upload writes its job before
        its bytes and its record before its job is removed, so the bytes of
        one in progress always have one of them."""
        collected, before = 0, time.time() - grace
        for folder_id in await self._folder_ids():
            async for entry in self.storage.iter_all(self._blobs(folder_id)):
                file_id = entry.key.rpartition("/")[2]
                if entry.modified > before or await self._exists(job_key(file_id)):
                    continue
                if not await self._exists(self.record_key(folder_id, file_id)):
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
        await self.storage.put_json(self.record_key(meta.source_id, meta.id), meta.wire())
        try:
            await self.storage.stat(self.blob_key(meta.source_id, meta.id))
        except NotFound:
            await self.storage.delete(self.content_key(meta.source_id, meta.id))
            await self.storage.delete(self.record_key(meta.source_id, meta.id))
            return False
        return True

    def open_blob(self, meta: FileMetadata):
        return self.storage.open(self.blob_key(meta.source_id, meta.id))

    async def put_content(self, meta: FileMetadata, text: AsyncIterable[bytes]) -> None:
        """Store the extracted text (UTF-8)."""
        await self.storage.put(self.content_key(meta.source_id, meta.id), text, content_type="text/plain")


def _exists(folder: Folder, name: str) -> ApiError:
    return bad_request(f"INVALID_ARGUMENT: File '{name}' already exists in folder '{folder.name}'")


def _compare(a: tuple[datetime, str], b: tuple[datetime, str]) -> int:
    return (a > b) - (a < b)


FOLDERS = web.AppKey("folders", FolderStore)
