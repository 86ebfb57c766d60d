"""What only the local disk backend does: its files, debris and symlinks."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from backends import AlreadyExists, InvalidKey, NotFound, StorageConfigError, backend_from_url
from backends.local import LocalBackend, _file_in_the_way

from .test_contract import chunks_of, read_all


@pytest.fixture
async def local(tmp_path: Path) -> LocalBackend:
    store = LocalBackend(tmp_path / "root")
    await store.start()
    return store


async def test_objects_are_plain_files_for_sendfile(local: LocalBackend) -> None:
    await local.put("a/b.txt", chunks_of(b"hello"))
    assert (local.root / "objects" / "a" / "b.txt").read_bytes() == b"hello"
    async with local.open("a/b.txt") as blob:
        assert blob.file is not None
        assert os.pread(blob.file.fileno(), 5, 0) == b"hello"


async def test_small_puts_leave_no_temp_files(local: LocalBackend) -> None:
    await local.put_bytes("r/a.json", b"{}")
    with pytest.raises(AlreadyExists):
        await local.put_bytes("r/a.json", b"[]", if_absent=True)
    with pytest.raises(InvalidKey):
        await local.put_bytes("r/a.json/b", b"{}")  # a key clash, raised in the worker thread
    await local.put_bytes("r/a.json", b"[]")
    await local.close()  # the replaced version is unlinked in the background
    assert list((local.root / "tmp").iterdir()) == []
    assert (local.root / "objects" / "r" / "a.json").read_bytes() == b"[]"


async def test_stale_temp_files_are_removed_at_start(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    (root / "tmp" / "crashed-upload").write_bytes(b"x" * 100)
    store = LocalBackend(root)
    await store.start()
    assert list((root / "tmp").iterdir()) == []
    assert await store.list("") == []


async def test_key_clash_is_an_invalid_key(local: LocalBackend) -> None:
    await local.put("a", chunks_of(b"1"))
    with pytest.raises(InvalidKey):
        await local.put("a/b", chunks_of(b"2"))
    await local.put("c/d", chunks_of(b"3"))
    with pytest.raises(InvalidKey):
        await local.put("c", chunks_of(b"4"))
    assert await read_all(local, "a") == b"1"


async def test_symlinks_are_never_followed(local: LocalBackend, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    (local.root / "objects").mkdir(exist_ok=True)
    (local.root / "objects" / "link").symlink_to(secret)
    with pytest.raises(NotFound):
        await local.stat("link")
    with pytest.raises(NotFound):
        async with local.open("link"):
            pass
    assert await local.list("") == []


async def test_sidecar_of_another_version_falls_back_to_defaults(local: LocalBackend) -> None:
    await local.put("x", chunks_of(b"data"), content_type="text/plain", metadata={"a": "b"})
    (local.root / "meta" / "x").write_text('{"identity": "other", "content_type": "image/png"}')
    info = await local.stat("x")
    assert (info.content_type, dict(info.metadata)) == ("application/octet-stream", {})


async def test_readers_racing_puts_see_each_version_with_its_own_sidecar(local: LocalBackend) -> None:
    versions = {f"v{n}".encode() * 100: f"text/v{n}" for n in range(5)}

    async def write() -> None:
        for _ in range(20):
            for data, content_type in versions.items():
                await local.put_bytes("k", data, content_type=content_type)

    async def read() -> int:
        seen = 0
        while not writing.done():
            async with local.open("k") as blob:
                assert blob.info.content_type == versions[await asyncio.to_thread(blob.file.read)]
            seen += 1
        return seen

    await local.put_bytes("k", b"v0" * 100, content_type="text/v0")
    writing = asyncio.ensure_future(write())
    assert min(await asyncio.gather(*(read() for _ in range(3)))) > 0
    await writing


async def test_unusable_root_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageConfigError):
        await LocalBackend(blocker / "root").start()


@pytest.mark.parametrize(
    ("url", "root"),
    [("file:///srv/data", "/srv/data"), ("file://./data", "data"), ("file://./a%20b", "a b"), ("file://.", ".")],
)
def test_file_urls(url: str, root: str) -> None:
    backend = backend_from_url(url)
    assert isinstance(backend, LocalBackend)
    assert backend.root == Path(root).resolve()


@pytest.mark.parametrize("url", ["file://host/x", "file://", "ftp://x", "s4://bucket", "data", ""])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(StorageConfigError):
        backend_from_url(url)


async def test_replaced_and_deleted_versions_are_freed(local: LocalBackend) -> None:
    await local.put("a", chunks_of(b"1" * 1000))
    await local.put("a", chunks_of(b"2"))
    await local.put("b", chunks_of(b"3"))
    await local.delete("b")
    await local.close()  # waits for the unlinks done after the responses
    assert list((local.root / "tmp").iterdir()) == []
    assert [p.name for p in (local.root / "objects").iterdir()] == ["a"]


def test_only_a_file_in_the_way_is_a_clash(tmp_path: Path) -> None:
    """mkdir can fail because a concurrent delete pruned the folder it had
    just found (try again) or because a file stands in the way (a clash)."""
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "folder").mkdir()
    assert _file_in_the_way(tmp_path / "file" / "sub" / "deeper")
    assert _file_in_the_way(tmp_path / "file")
    assert not _file_in_the_way(tmp_path / "folder" / "gone" / "deeper")
    assert not _file_in_the_way(tmp_path / "folder")
