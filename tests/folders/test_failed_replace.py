"""A ``replace`` upload that fails before its file is whole leaves the old
file its name: still listed under it, and the next upload of the name is
suffixed rather than stored beside it as a second ``a.txt``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from backends import StorageUnavailable
from backends.memory import MemoryBackend
from gateway.folders.models import CreateFolder
from gateway.folders.store import FolderStore


class FailingRecords(MemoryBackend):
    """Memory whose file-record writes fail while ``failing`` is set."""

    failing = False

    async def put_json(self, key: str, value: Any, **options: Any) -> Any:
        if self.failing and "/records/" in key:
            raise StorageUnavailable("injected")
        return await super().put_json(key, value, **options)


async def body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_failed_replace_keeps_the_old_file_its_name() -> None:
    storage = FailingRecords()
    store = FolderStore(storage)
    folder = await store.create_folder(CreateFolder(name="f"))
    old, _ = await store.add_file(folder.id, "a.txt", "text/plain", body(b"v1"), "replace")
    storage.failing = True
    with pytest.raises(StorageUnavailable):
        await store.add_file(folder.id, "a.txt", "text/plain", body(b"v2"), "replace")
    storage.failing = False
    assert await store.holds_name(old)
    listed = await store.list_files(folder.id, "asc", 50, None, None, False)
    assert [(m.id, m.file_name) for m in listed] == [(old.id, "a.txt")]
    new, _ = await store.add_file(folder.id, "a.txt", "text/plain", body(b"v3"), "suffix")
    assert new.file_name == "a_(1).txt"
