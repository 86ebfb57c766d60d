"""The routes letta-client 1.12.1 no longer calls (count, name, metadata,
passages) and the older ``/v1/sources`` family, through 1.12.1's generic
request methods, on every backend; letta-client 0.1.324 calls them by name
in test_client_0x.py."""

from __future__ import annotations

import io
from urllib.parse import quote

import letta_client
import pytest
from letta_client import Letta

MISSING_FOLDER = "source-00000000-0000-4000-8000-000000000000"
MISSING_FILE = "file-00000000-0000-4000-8000-000000000000"


def get(client: Letta, path: str, cast_to: type = object, **params):
    return client.get(path, cast_to=cast_to, options={"params": params})


def upload(client: Letta, folder_id: str, name: str, data: bytes):
    return client.folders.files.upload(folder_id, file=(name, io.BytesIO(data)))


@pytest.mark.parametrize("family", ["folders", "sources"])
def test_count_and_name(client: Letta, family: str) -> None:
    assert get(client, f"/v1/{family}/count", int) == 0
    # Folders named like the literal segments are still folders, and any
    # name, a line break in it too, is routed to by-name.
    made = {name: client.folders.create(name=name).id for name in ("count", "metadata", "name", "a/b", "two\nlines")}
    assert get(client, f"/v1/{family}/count", int) == 5
    for name, folder_id in made.items():
        assert get(client, f"/v1/{family}/name/{quote(name, safe='/')}") == folder_id
    client.folders.delete(made["count"])
    assert get(client, f"/v1/{family}/count", int) == 4
    with pytest.raises(letta_client.NotFoundError) as caught:
        get(client, f"/v1/{family}/name/count")
    assert caught.value.body == {"detail": "Folder with name=count not found."}


@pytest.mark.parametrize("family", ["folders", "sources"])
def test_metadata_totals_after_uploads_and_deletes(client: Letta, family: str) -> None:
    empty = get(client, f"/v1/{family}/metadata")
    assert empty == {"total_sources": 0, "total_files": 0, "total_size": 0, "sources": []}
    b = client.folders.create(name="b").id
    a = client.folders.create(name="a").id
    client.folders.create(name="c")
    kept = upload(client, b, "z/two.txt", b"22")
    upload(client, b, "one.txt", b"1")
    gone = upload(client, a, "three.md", b"333")
    upload(client, a, "four.md", b"4444")
    client.folders.files.delete(gone.id, folder_id=a)
    totals = get(client, f"/v1/{family}/metadata")
    assert totals == {"total_sources": 3, "total_files": 3, "total_size": 7, "sources": []}

    detailed = get(client, f"/v1/{family}/metadata", include_detailed_per_source_metadata="true")
    assert {k: v for k, v in detailed.items() if k != "sources"} == {k: v for k, v in totals.items() if k != "sources"}
    # As upstream: folders by name, files by file name.
    assert [(s["source_name"], s["file_count"], s["total_size"]) for s in detailed["sources"]] == [
        ("a", 1, 4),
        ("b", 2, 3),
        ("c", 0, 0),
    ]
    assert detailed["sources"][0]["source_id"] == a
    assert [(f["file_name"], f["file_size"]) for f in detailed["sources"][1]["files"]] == [
        ("one.txt", 1),
        ("z/two.txt", 2),
    ]
    assert detailed["sources"][1]["files"][1]["file_id"] == kept.id

    client.folders.delete(b)
    after = get(client, f"/v1/{family}/metadata")
    assert after == {"total_sources": 2, "total_files": 1, "total_size": 4, "sources": []}
    with pytest.raises(letta_client.UnprocessableEntityError):
        get(client, f"/v1/{family}/metadata", include_detailed_per_source_metadata="maybe")


@pytest.mark.parametrize("family", ["folders", "sources"])
def test_passages(client: Letta, folder_id: str, family: str) -> None:
    """None until something embeds them (no embedder is configured)."""
    upload(client, folder_id, "a.txt", b"words " * 500)
    assert get(client, f"/v1/{family}/{folder_id}/passages") == []
    assert get(client, f"/v1/{family}/{folder_id}/passages", limit=5, order="desc") == []
    cases = [
        (f"/v1/{family}/{MISSING_FOLDER}/passages", {}, 404),
        (f"/v1/{family}/source-x/passages", {}, 422),
        (f"/v1/{family}/{folder_id}/passages", {"after": "nope"}, 422),
        (f"/v1/{family}/{folder_id}/passages", {"limit": "0"}, 422),
    ]
    for path, params, status in cases:
        with pytest.raises(letta_client.APIStatusError) as caught:
            get(client, path, **params)
        assert caught.value.status_code == status and caught.value.body["detail"]


def test_sources_and_folders_see_the_same_data(client: Letta) -> None:
    source = client.post("/v1/sources/", cast_to=object, body={"name": "old", "embedding_chunk_size": 64})
    assert source["id"].startswith("source-") and source["embedding_config"]["embedding_chunk_size"] == 64
    folder = client.folders.retrieve(source["id"])
    assert folder.model_dump(mode="json", exclude_none=True) == {k: v for k, v in source.items() if v is not None}
    assert get(client, f"/v1/sources/{folder.id}") == source
    assert [f["id"] for f in get(client, "/v1/sources")] == [folder.id]
    assert [f["id"] for f in get(client, "/v1/sources/")] == [folder.id]

    modified = client.patch(f"/v1/sources/{folder.id}", cast_to=object, body={"description": "d"})
    assert modified["description"] == "d" and client.folders.retrieve(folder.id).description == "d"

    meta = client.post(
        f"/v1/sources/{folder.id}/upload",
        cast_to=object,
        body=None,
        files={"file": ("x.txt", io.BytesIO(b"hello"))},
        options={"params": {"name": "a/x.txt"}, "headers": {"Content-Type": "multipart/form-data"}},
    )
    assert meta["file_name"] == "a/x.txt" and meta["source_id"] == folder.id
    assert client.folders.files.retrieve(meta["id"], folder_id=folder.id).file_name == "a/x.txt"
    assert get(client, f"/v1/sources/{folder.id}/files/{meta['id']}", include_content="false")["id"] == meta["id"]
    listed = get(client, f"/v1/sources/{folder.id}/files", limit=10, check_status_updates="false")
    assert [f["id"] for f in listed] == [meta["id"]]
    assert get(client, f"/v1/sources/{folder.id}/agents") == []

    client.delete(f"/v1/sources/{folder.id}/{meta['id']}", cast_to=object)
    assert client.folders.files.list(folder.id).items == []
    assert client.delete(f"/v1/sources/{folder.id}", cast_to=object) is None
    with pytest.raises(letta_client.NotFoundError):
        client.folders.retrieve(folder.id)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", f"/v1/sources/{MISSING_FOLDER}", 404),
        ("get", "/v1/sources/source-1", 422),
        ("get", f"/v1/sources/{MISSING_FOLDER}/files", 404),
        ("get", f"/v1/sources/{MISSING_FOLDER}/agents", 404),
        ("get", f"/v1/sources/{MISSING_FOLDER}/files/{MISSING_FILE}", 404),
        ("get", f"/v1/sources/{MISSING_FOLDER}/files/file-1", 422),
        ("delete", f"/v1/sources/{MISSING_FOLDER}", 404),
        ("delete", f"/v1/sources/{MISSING_FOLDER}/{MISSING_FILE}", 404),
        ("patch", f"/v1/sources/{MISSING_FOLDER}", 404),
        # A literal segment is never an id: where only the id route has the
        # method, the literal is a malformed id.
        ("delete", "/v1/folders/count", 422),
        ("patch", "/v1/sources/metadata", 422),
        ("delete", "/v1/folders/name/x", 422),
        ("get", "/v1/folders/name", 422),
    ],
)
def test_errors_are_the_same_in_both_families(client: Letta, method: str, path: str, status: int) -> None:
    def call(path: str):
        kwargs = {"body": {}} if method == "patch" else {}
        return getattr(client, method)(path, cast_to=object, **kwargs)

    with pytest.raises(letta_client.APIStatusError) as caught:
        call(path)
    assert caught.value.status_code == status
    if path.startswith("/v1/sources/"):
        with pytest.raises(letta_client.APIStatusError) as same:
            call(path.replace("/v1/sources/", "/v1/folders/", 1))
        assert (same.value.status_code, same.value.body) == (status, caught.value.body)
