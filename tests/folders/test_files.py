"""Folder files through the official letta-client, on every backend."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import aiohttp
import letta_client
import pytest
from letta_client import Letta

from backends import backend_from_url

from ..letta_client import async_letta, letta
from ..server import ThreadedGateway

MISSING_FILE = "file-00000000-0000-4000-8000-000000000000"


def upload(client: Letta, folder_id: str, filename: str, data: bytes = b"some words", **params):
    return client.folders.files.upload(folder_id, file=(filename, io.BytesIO(data)), **params)


def names(client: Letta, folder_id: str) -> list[str]:
    return sorted(f.file_name for f in client.folders.files.list(folder_id))


def test_upload_answers_the_metadata(client: Letta, folder_id: str) -> None:
    data = b"x" * 70_000
    meta = upload(client, folder_id, "notes.md", data)
    assert meta.id.startswith("file-") and meta.source_id == folder_id
    assert (meta.file_name, meta.original_file_name, meta.file_type) == ("notes.md", "notes.md", "text/markdown")
    assert meta.file_size == len(data) and meta.processing_status == "pending"
    listed = client.folders.files.list(folder_id).items
    assert [f.id for f in listed] == [meta.id]
    renamed = upload(client, folder_id, "ignored.txt", name="chosen.txt")
    assert (renamed.file_name, renamed.original_file_name) == ("chosen.txt", "chosen.txt")


async def test_upload_streams_into_the_backend(gateway: ThreadedGateway, backend_kind: str) -> None:
    """The stored bytes are the uploaded ones (hash), however they were framed."""
    client = async_letta(gateway)
    folder = await client.folders.create(name="stream")
    data = b"".join(hashlib.sha256(str(i).encode()).hexdigest().encode() + b"\n" for i in range(200_000))

    async def body():
        for i in range(0, len(data), 100_000):
            yield data[i : i + 100_000]

    form = aiohttp.FormData()
    form.add_field("file", body(), filename="big.txt", content_type="text/plain")
    url = f"{gateway.url}/v1/folders/{folder.id}/upload"
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as response:
        assert response.status == 200, await response.text()
        meta = await response.json()
    assert meta["file_size"] == len(data)
    key = f"folder-files/{folder.id}/blobs/{meta['id']}"
    if backend_kind == "local":
        # Not a second LocalBackend: its start would empty the live one's tmp/.
        stored = Path(gateway.settings.storage.removeprefix("file://"), "objects", key).read_bytes()
    elif backend_kind == "s3":
        storage = backend_from_url(gateway.settings.storage)
        await storage.start()
        stored = await storage.get_bytes(key)
        await storage.close()
    else:
        return  # memory: only the gateway's own process sees it
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


def test_duplicate_modes(client: Letta, folder_id: str) -> None:
    first = upload(client, folder_id, "a.txt")
    assert upload(client, folder_id, "a.txt").file_name == "a_(1).txt"  # suffix by default
    assert upload(client, folder_id, "a.txt", duplicate_handling="suffix").file_name == "a_(2).txt"

    raw = client.folders.files.with_raw_response.upload(
        folder_id, file=("a.txt", io.BytesIO(b"other")), duplicate_handling="skip"
    )
    assert raw.headers["x-upload-result"] == "skipped" and raw.parse().id == first.id

    with pytest.raises(letta_client.BadRequestError) as caught:
        upload(client, folder_id, "a.txt", duplicate_handling="error")
    assert caught.value.body == {"detail": "INVALID_ARGUMENT: File 'a.txt' already exists in folder 'tests'"}

    replaced = upload(client, folder_id, "a.txt", b"new", duplicate_handling="replace")
    assert replaced.id != first.id and replaced.file_name == "a.txt"
    with pytest.raises(letta_client.NotFoundError):
        client.folders.files.retrieve(first.id, folder_id=folder_id)
    assert names(client, folder_id) == ["a.txt", "a_(1).txt", "a_(2).txt"]

    # Ours: the smallest free N, so a deleted copy's name is reused.
    copy = next(f for f in client.folders.files.list(folder_id) if f.file_name == "a_(1).txt")
    client.folders.files.delete(copy.id, folder_id=folder_id)
    assert upload(client, folder_id, "a.txt").file_name == "a_(1).txt"
    assert upload(client, folder_id, "a.txt").file_name == "a_(3).txt"
    # As upstream, a duplicate is a file uploaded under the name, even when
    # it was stored as name_(N): with a.txt deleted, its copies still count.
    original = next(f for f in client.folders.files.list(folder_id) if f.file_name == "a.txt")
    client.folders.files.delete(original.id, folder_id=folder_id)
    with pytest.raises(letta_client.BadRequestError):
        upload(client, folder_id, "a.txt", duplicate_handling="error")
    skipped = upload(client, folder_id, "a.txt", duplicate_handling="skip")
    assert skipped.original_file_name == "a.txt" and skipped.file_name != "a.txt"
    assert upload(client, folder_id, "a.txt").file_name == "a.txt"  # the smallest free name

    assert upload(client, folder_id, "a.v2.md").file_name == "a.v2.md"
    assert upload(client, folder_id, "a.v2.md").file_name == "a.v2_(1).md"


def test_replace_of_a_new_name_and_skip_of_a_new_name(client: Letta, folder_id: str) -> None:
    assert upload(client, folder_id, "r.txt", duplicate_handling="replace").file_name == "r.txt"
    raw = client.folders.files.with_raw_response.upload(
        folder_id, file=("s.txt", io.BytesIO(b"x")), duplicate_handling="skip"
    )
    assert "x-upload-result" not in raw.headers and raw.parse().file_name == "s.txt"


@pytest.fixture
def two_gateways(backend_kind: str, start_gateway) -> list[ThreadedGateway]:
    """Two servers on one storage (each with its own app and backend client,
    as two processes have); memory storage cannot be shared, so one there."""
    first = start_gateway()
    return [first] if backend_kind == "memory" else [first, start_gateway()]


@pytest.mark.parametrize("mode", ["skip", "error", "suffix", "replace"])
async def test_concurrent_uploads_of_one_name(two_gateways: list[ThreadedGateway], mode: str) -> None:
    clients = [async_letta(server) for server in two_gateways]
    folder = await clients[0].folders.create(name="race")

    async def one(i: int):
        data = io.BytesIO(f"copy {i}".encode())
        return await clients[i % len(clients)].folders.files.upload(
            folder.id, file=("same.txt", data), duplicate_handling=mode
        )

    results = await asyncio.gather(*(one(i) for i in range(20)), return_exceptions=True)
    made = [r for r in results if not isinstance(r, Exception)]
    listed = [f async for f in clients[-1].folders.files.list(folder.id)]
    if mode == "error":
        assert len(made) == 1
        assert all(isinstance(r, letta_client.BadRequestError) for r in results if r not in made)
    else:
        assert all(not isinstance(r, Exception) for r in results), results
    if mode == "skip":
        assert len({m.id for m in made}) == 1
    if mode == "suffix":
        expected = ["same.txt"] + [f"same_({n}).txt" for n in range(1, 20)]
        assert sorted(f.file_name for f in listed) == sorted(expected)
    else:
        assert [f.file_name for f in listed] == ["same.txt"]
        assert listed[0].id in {m.id for m in made}


def test_pagination(client: Letta, folder_id: str) -> None:
    ids = [upload(client, folder_id, f"{i:02}.txt").id for i in range(25)]
    assert [f.id for f in client.folders.files.list(folder_id)] == ids[::-1]  # newest first by default
    assert [f.id for f in client.folders.files.list(folder_id, order="asc")] == ids
    page = client.folders.files.list(folder_id, limit=10, order="asc")
    assert [f.id for f in page.items] == ids[:10]
    assert [f.id for f in page] == ids  # auto-pagination: after=<last id> until []
    assert client.folders.files.list(folder_id, after=ids[-1], order="asc").items == []
    assert [f.id for f in client.folders.files.list(folder_id, limit=10)] == ids[::-1]
    assert [f.id for f in client.folders.files.list(folder_id, after=ids[5], limit=3).items] == ids[4:1:-1]
    assert [f.id for f in client.folders.files.list(folder_id, before=ids[5], limit=3).items] == ids[8:5:-1]
    asc_before = client.folders.files.list(folder_id, before=ids[5], limit=3, order="asc")
    assert [f.id for f in asc_before.items] == ids[2:5]
    assert [f.id for f in asc_before] == ids[2:5] + ids[:2]  # auto-pagination backwards: before=<first id>
    between = client.folders.files.list(folder_id, after=ids[3], before=ids[7], order="asc")
    assert [f.id for f in between.items] == ids[4:7]


def test_file_errors(client: Letta, folder_id: str) -> None:
    meta = upload(client, folder_id, "a.txt")
    other = client.folders.create(name="other").id
    missing_folder = "source-00000000-0000-4000-8000-000000000000"
    cases = [
        (lambda: client.folders.files.retrieve(meta.id, folder_id=other), 404),
        (lambda: client.folders.files.retrieve(MISSING_FILE, folder_id=folder_id), 404),
        (lambda: client.folders.files.retrieve("file-1", folder_id=folder_id), 422),
        (lambda: client.folders.files.retrieve(meta.id, folder_id="source-x"), 422),
        (lambda: client.folders.files.delete(meta.id, folder_id=other), 404),
        (lambda: client.folders.files.delete(MISSING_FILE, folder_id=folder_id), 404),
        (lambda: client.folders.files.delete("nope", folder_id=folder_id), 422),
        (lambda: client.folders.files.list(missing_folder), 404),
        (lambda: client.folders.files.list(folder_id, after=MISSING_FILE), 400),
        (lambda: client.folders.files.list(folder_id, after="file-x"), 422),
        (lambda: client.folders.files.list(folder_id, include_content="maybe"), 422),
        (lambda: upload(client, missing_folder, "a.txt"), 404),
        (lambda: upload(client, folder_id, "image.png"), 415),
        (lambda: upload(client, folder_id, "program.exe"), 415),
        (lambda: upload(client, folder_id, ".hidden.txt"), 400),
        (lambda: upload(client, folder_id, "a.txt", duplicate_handling="merge"), 422),
    ]
    for call, status in cases:
        with pytest.raises(letta_client.APIStatusError) as caught:
            call()
        assert caught.value.status_code == status, caught.value.body
        assert set(caught.value.body) == {"detail"} and caught.value.body["detail"]
    assert client.folders.files.retrieve(meta.id, folder_id=folder_id).id == meta.id


def test_declared_type_trusted_when_accepted(client: Letta, folder_id: str) -> None:
    declared = client.folders.files.upload(folder_id, file=("data", io.BytesIO(b"{}"), "application/json"))
    assert declared.file_type == "application/json"
    guessed = client.folders.files.upload(folder_id, file=("page.htm", io.BytesIO(b"<p>x</p>"), "x-unknown/type"))
    assert guessed.file_type == "text/html"


def test_upload_limit_413_stores_nothing(start_gateway) -> None:
    client = letta(start_gateway(max_upload_bytes=1000))
    folder = client.folders.create(name="small")
    with pytest.raises(letta_client.APIStatusError) as caught:
        upload(client, folder.id, "big.txt", b"x" * 5000)
    assert caught.value.status_code == 413 and "limit" in caught.value.body["detail"]
    assert client.folders.files.list(folder.id).items == []
    assert upload(client, folder.id, "big.txt", b"x" * 900).file_name == "big.txt"


def test_delete_file(client: Letta, folder_id: str) -> None:
    meta = upload(client, folder_id, "a.txt")
    response = client.folders.files.with_raw_response.delete(meta.id, folder_id=folder_id)
    assert response.status_code == 204
    assert client.folders.files.list(folder_id).items == []
    assert upload(client, folder_id, "a.txt", duplicate_handling="error").file_name == "a.txt"


def test_api_keys(start_gateway) -> None:
    key = "k" * 20
    server = start_gateway(api_keys=(key,))
    with pytest.raises(letta_client.AuthenticationError) as caught:
        letta(server, api_key="wrong-key-0123456789").folders.list()
    assert caught.value.body == {"detail": "Unauthorized"}
    assert letta(server, api_key=key).folders.list().items == []
