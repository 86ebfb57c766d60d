"""Local disk backend (``file:///abs/path`` or ``file://./rel/path``).

Layout under the root:

- ``objects/<key>``: the bytes, one file per object, so downloads can use
  ``sendfile``;
- ``meta/<key>``: a small JSON sidecar with the content type and user metadata;
- ``tmp/``: uploads in progress; emptied at start, so a crash leaves no debris.

A put writes a temp file, fsyncs it and renames it into place (``link`` for
put-if-absent, which fails atomically when the name exists), renames the
sidecar beside it, and only then fsyncs both folders. The sidecar records the
identity (inode, mtime, size) of the data file it belongs to; a reader that
sees a sidecar of another version (a put between its two renames, or a crash
there) retries briefly and then falls back to the defaults rather than
mixing versions.

File I/O blocks, so every call of it runs in a worker thread through
``asyncio.to_thread``, the one way this module hops (aiofiles, which wraps
the same executor, served one write loop and was dropped).

Because objects are files and prefixes are folders, a key cannot be both an
object and a prefix of other keys here ("a" and "a/b"); the gateway's key
layout never does that, and such a put raises ``InvalidKey``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from .base import DEFAULT_CONTENT_TYPE, BaseBackend, Blob, Entry, ObjectInfo
from .errors import AlreadyExists, InvalidKey, NotFound, StorageConfigError, StorageFull

WRITE_SIZE = 1 * 1024 * 1024
SYNC_EVERY = 16 * 1024 * 1024
READ_SIZE = 256 * 1024
SIDECAR_RETRIES = 6  # waits of 1, 2, 4, 8 and 16 ms in between
#: Tries to place a file while concurrent deletes prune its folders.
PLACE_ATTEMPTS = 10


def _etag(st: os.stat_result) -> str:
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


def _entry(key: str, st: os.stat_result) -> Entry:
    return Entry(key=key, size=st.st_size, etag=_etag(st), modified=st.st_mtime)


class LocalBlob(Blob):
    file: BinaryIO

    def __init__(self, info: ObjectInfo, file: BinaryIO) -> None:
        self.info = info
        self.file = file

    async def stream(self, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        end = self.info.size if end is None else end
        fd = self.file.fileno()
        offset = start
        while offset < end:
            chunk = await asyncio.to_thread(os.pread, fd, min(READ_SIZE, end - offset), offset)
            if not chunk:
                return
            offset += len(chunk)
            yield chunk


class LocalBackend(BaseBackend):
    def __init__(self, root: Path) -> None:
        self.root = root
        self._objects = root / "objects"
        self._meta = root / "meta"
        self._tmp = root / "tmp"
        self._background: set[asyncio.Future[None]] = set()

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self._prepare_root)
        except OSError as exc:
            raise StorageConfigError(f"cannot use {self.root} for storage: {exc.strerror or exc}") from exc

    async def close(self) -> None:
        await asyncio.gather(*self._background)

    def _prepare_root(self) -> None:
        for folder in (self._objects, self._meta):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir()

    def _path(self, base: Path, key: str) -> Path:
        # Keys are checked by BaseBackend: no '..', no absolute paths, no NUL
        # or backslash, so the join cannot leave ``base``.
        return base.joinpath(*key.split("/"))

    async def _put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: Mapping[str, str],
        if_absent: bool,
    ) -> ObjectInfo:
        tmp = self._tmp / uuid.uuid4().hex
        try:
            with _space_errors():
                # Unbuffered: _write_durably hands the OS whole batches.
                file = await asyncio.to_thread(open, tmp, "wb", buffering=0)
                try:
                    await _write_durably(file, chunks)
                finally:
                    await asyncio.to_thread(file.close)
                info, replaced = await asyncio.to_thread(self._commit, key, tmp, content_type, metadata, if_absent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(tmp.unlink)
        if replaced is not None:
            self._unlink_later(replaced)
        return info

    async def _put_bytes(self, key: str, data: bytes, content_type: str, if_absent: bool) -> ObjectInfo:
        """One trip to a worker thread, where a streamed put takes seven:
        records and thumbnails are small and written often. As with a
        streamed put's commit, a put cancelled once in the thread completes."""
        with _space_errors():
            info, replaced = await asyncio.to_thread(self._put_whole, key, data, content_type, if_absent)
        if replaced is not None:
            self._unlink_later(replaced)
        return info

    def _put_whole(self, key: str, data: bytes, content_type: str, if_absent: bool) -> tuple[ObjectInfo, Path | None]:
        tmp = self._tmp / uuid.uuid4().hex
        try:
            with open(tmp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            return self._commit(key, tmp, content_type, {}, if_absent)
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(
        self, key: str, tmp: Path, content_type: str, metadata: Mapping[str, str], if_absent: bool
    ) -> tuple[ObjectInfo, Path | None]:
        """Move the upload into place; return it and the replaced version's
        extra link (see ``_unlink_later``), if there was one."""
        path = self._path(self._objects, key)
        replaced = None if if_absent else self._keep_aside(path, link=True)
        st = tmp.stat()
        sidecar = {
            "identity": _etag(st),
            "content_type": content_type,
            "metadata": dict(metadata),
        }
        sidecar_tmp = tmp.with_suffix(".meta")
        sidecar_tmp.write_text(json.dumps(sidecar))
        sidecar_path = self._path(self._meta, key)
        try:
            self._place(tmp, path, link=if_absent, key=key)
            self._place(sidecar_tmp, sidecar_path, link=False, key=key)
        finally:
            sidecar_tmp.unlink(missing_ok=True)
        # Both names are made durable after both renames, not in between:
        # readers seeing the new data beside the old sidecar wait for it.
        for folder in (path.parent, sidecar_path.parent):
            _fsync_folder(folder)
        info = ObjectInfo(
            key=key,
            size=st.st_size,
            etag=_etag(st),
            modified=st.st_mtime,
            content_type=content_type,
            metadata=dict(metadata),
        )
        return info, replaced

    def _keep_aside(self, path: Path, *, link: bool) -> Path | None:
        """Give the object at ``path`` a second name in ``tmp/`` (``link``) or
        move it there, so that dropping its last name happens later."""
        aside = self._tmp / f"{uuid.uuid4().hex}.old"
        try:
            if link:
                os.link(path, aside)
            else:
                os.rename(path, aside)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EPERM):
                return None  # nothing there, or a folder: the caller's rename reports it
            raise
        return aside

    def _unlink_later(self, path: Path) -> None:
        """Unlink a replaced or deleted version after the response.

        Freeing a large file's blocks can take seconds (a file system mounted
        with ``discard`` trims them synchronously), which no client should
        wait for. What a crash leaves in ``tmp/`` is removed at start.
        """
        task = asyncio.ensure_future(asyncio.to_thread(path.unlink, missing_ok=True))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _place(self, source: Path, target: Path, *, link: bool, key: str) -> None:
        # A concurrent delete may prune the parent folder during mkdir or
        # between mkdir and rename; try again a few times.
        clash = InvalidKey(f"{key!r} clashes with another key on local disk")
        for _ in range(PLACE_ATTEMPTS):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                if _file_in_the_way(target.parent):
                    raise clash from None
                continue
            try:
                if link:
                    os.link(source, target)
                else:
                    os.replace(source, target)
                break
            except FileNotFoundError:
                continue
            except FileExistsError:
                if target.is_dir():
                    raise clash from None
                raise AlreadyExists(key) from None
            except (NotADirectoryError, IsADirectoryError):
                raise clash from None
        else:
            raise FileNotFoundError(target.parent)

    def _stat_or_open(self, key: str, open_file: bool) -> tuple[ObjectInfo, BinaryIO | None]:
        path = self._path(self._objects, key)
        for attempt in range(SIDECAR_RETRIES):
            file, st = _stat_path(path, key, open_file)
            try:
                return self._info(key, st, last_try=attempt == SIDECAR_RETRIES - 1), file
            except _StaleSidecar:
                if file is not None:
                    file.close()
                # In a worker thread; the writer is one rename away from done.
                time.sleep(0.001 * 2**attempt)
        raise AssertionError("unreachable")

    def _info(self, key: str, st: os.stat_result, *, last_try: bool) -> ObjectInfo:
        entry = _entry(key, st)
        try:
            sidecar = json.loads(self._path(self._meta, key).read_bytes())
        except (OSError, ValueError):
            sidecar = {}
        if sidecar.get("identity") != entry.etag:
            if not last_try:
                raise _StaleSidecar
            sidecar = {}
        return ObjectInfo(
            **vars(entry),
            content_type=sidecar.get("content_type", DEFAULT_CONTENT_TYPE),
            metadata=sidecar.get("metadata", {}),
        )

    async def _stat(self, key: str) -> ObjectInfo:
        info, _ = await asyncio.to_thread(self._stat_or_open, key, False)
        return info

    async def _get_bytes(self, key: str) -> bytes:
        """One trip to a worker thread, where ``open`` and its reads take
        several: records are read often (a page of 50 files is 50 of them)."""
        return await asyncio.to_thread(self._read_whole, key)

    def _read_whole(self, key: str) -> bytes:
        file, _ = _stat_path(self._path(self._objects, key), key, open_file=True)
        assert file is not None
        with file:
            return file.read()

    @contextlib.asynccontextmanager
    async def _open(self, key: str) -> AsyncIterator[Blob]:
        info, file = await asyncio.to_thread(self._stat_or_open, key, True)
        assert file is not None
        try:
            yield LocalBlob(info, file)
        finally:
            await asyncio.to_thread(file.close)

    async def _delete(self, key: str) -> bool:
        removed = await asyncio.to_thread(self._delete_sync, key)
        if removed is not None:
            self._unlink_later(removed)
        return removed is not None

    def _delete_sync(self, key: str) -> Path | None:
        path = self._path(self._objects, key)
        try:
            if not _is_file(os.stat(path, follow_symlinks=False)):
                return None
        except (FileNotFoundError, NotADirectoryError):
            return None
        removed = self._keep_aside(path, link=False)
        if removed is None:
            return None
        meta = self._path(self._meta, key)
        meta.unlink(missing_ok=True)
        for base, leaf in ((self._objects, path), (self._meta, meta)):
            _prune_empty_parents(base, leaf)
        return removed

    async def _list(self, prefix: str, start_after: str, limit: int) -> list[Entry]:
        return await asyncio.to_thread(self._list_sync, prefix, start_after, limit)

    def _list_sync(self, prefix: str, start_after: str, limit: int) -> list[Entry]:
        entries: list[Entry] = []
        # Start in the deepest folder that holds every key under the prefix.
        folder, _, _ = prefix.rpartition("/")
        start = self._path(self._objects, folder) if folder else self._objects
        self._walk(start, f"{folder}/" if folder else "", prefix, start_after, limit, entries)
        return entries

    def _walk(self, folder: Path, key_prefix: str, prefix: str, start_after: str, limit: int, out: list[Entry]) -> bool:
        """Append entries of ``folder`` in key order; return True once full."""
        try:
            with os.scandir(folder) as it:
                # A subfolder "d" holds keys "d/...", which sort as "d/" does.
                children = sorted((e.name + "/" if e.is_dir(follow_symlinks=False) else e.name, e) for e in it)
        except (FileNotFoundError, NotADirectoryError):
            return False
        for name, child in children:
            key = key_prefix + name
            if name.endswith("/"):
                in_prefix = key.startswith(prefix) or prefix.startswith(key)
                before_start = key <= start_after and not start_after.startswith(key)
                if (
                    in_prefix
                    and not before_start
                    and self._walk(Path(child.path), key, prefix, start_after, limit, out)
                ):
                    return True
                continue
            if key.startswith(prefix) and key > start_after:
                try:
                    st = child.stat(follow_symlinks=False)
                except FileNotFoundError:  # deleted since the folder was read
                    continue
                if _is_file(st):
                    out.append(_entry(key, st))
                    if len(out) >= limit:
                        return True
        return False


async def _write_durably(file: BinaryIO, chunks: AsyncIterable[bytes]) -> None:
    """Write ``chunks`` and fsync, flushing to disk while the upload runs.

    Small network chunks are batched into fewer thread hops. An fdatasync is
    started in the background every ``SYNC_EVERY`` bytes (one at a time,
    while writes go on), so the final fsync has little left to wait for.
    """
    pending: list[bytes] = []
    pending_size = unsynced = 0
    background_sync: asyncio.Future[None] | None = None
    try:
        async for chunk in chunks:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size < WRITE_SIZE:
                continue
            await asyncio.to_thread(_write_all, file, b"".join(pending))
            unsynced += pending_size
            pending, pending_size = [], 0
            if unsynced >= SYNC_EVERY and (background_sync is None or background_sync.done()):
                if background_sync is not None:
                    background_sync.result()  # raise what an earlier sync hit
                background_sync = asyncio.ensure_future(asyncio.to_thread(os.fdatasync, file.fileno()))
                unsynced = 0
        await asyncio.to_thread(_write_all, file, b"".join(pending))
    finally:
        # Never close the file under a running sync, even when the upload failed.
        if background_sync is not None:
            await asyncio.shield(background_sync)
    await asyncio.to_thread(os.fsync, file.fileno())


def _write_all(file: BinaryIO, data: bytes) -> None:
    """An unbuffered write may take only part of the data."""
    view = memoryview(data)
    while view:
        view = view[file.write(view) or 0 :]


class _StaleSidecar(Exception):
    """The sidecar belongs to another version of the data file."""


def _is_file(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


@contextlib.contextmanager
def _space_errors() -> Iterator[None]:
    """A full disk or quota as ``StorageFull``: the put's temporary file is
    removed by its caller, so nothing of it stays."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(f"no space left: {exc.strerror}") from exc
        raise


def _stat_path(path: Path, key: str, open_file: bool) -> tuple[BinaryIO | None, os.stat_result]:
    """Stat (and open) the data file, never following a symlink."""
    file = None
    try:
        if open_file:
            file = open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW))  # noqa: SIM115
            st = os.fstat(file.fileno())
        else:
            st = os.stat(path, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise NotFound(key) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotFound(key) from None
        raise
    if not _is_file(st):
        if file is not None:
            file.close()
        raise NotFound(key)
    return file, st


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _file_in_the_way(folder: Path) -> bool:
    """Whether something other than a folder stands at ``folder`` or above."""
    for path in (folder, *folder.parents):
        try:
            return not stat.S_ISDIR(os.lstat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return False


def _prune_empty_parents(base: Path, leaf: Path) -> None:
    folder = leaf.parent
    while folder != base:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def from_url(url: str) -> LocalBackend:
    """Build from a ``file://`` URL: ``file:///abs/path`` or
    ``file://./rel/path`` (``.`` kept as the netloc: a path relative to the
    working directory; ``file:///abs`` has an empty netloc)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", ".", ".."):
        raise StorageConfigError(f"file:// storage URL must be file:///abs/path or file://./rel/path, not {url!r}")
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise StorageConfigError("file:// storage needs a path, e.g. file:///var/lib/gateway or file://./data")
    return LocalBackend(Path(path).resolve())
