"""Folders through the official letta-client, on every backend."""

from __future__ import annotations

import io

import httpx
import letta_client
import pytest
from letta_client import Letta

from ..letta_client import async_letta, letta
from ..server import ThreadedGateway


def test_create_get_update_delete(client: Letta) -> None:
    created = client.folders.create(name="docs", description="d", instructions="i", metadata={"k": [1]})
    assert created.id.startswith("source-") and created.name == "docs"
    assert (created.description, created.instructions, created.metadata) == ("d", "i", {"k": [1]})
    # Neither embedding nor embedding_config: the documented default.
    assert created.embedding_config.handle == "openai/text-embedding-3-small"
    assert created.embedding_config.embedding_chunk_size == 300
    assert client.folders.retrieve(created.id) == created

    updated = client.folders.update(created.id, name="renamed", description="new")
    assert (updated.name, updated.description, updated.instructions) == ("renamed", "new", "i")
    assert updated.updated_at > created.updated_at and updated.created_at == created.created_at
    assert client.folders.retrieve(created.id) == updated
    # The old name is free again, the new one is taken.
    assert client.folders.create(name="docs").name == "docs"
    with pytest.raises(letta_client.ConflictError):
        client.folders.create(name="renamed")

    assert client.folders.agents.list(created.id) == []
    response = client.folders.with_raw_response.delete(created.id)
    assert response.status_code == 200 and response.json() is None
    with pytest.raises(letta_client.NotFoundError):
        client.folders.retrieve(created.id)
    assert client.folders.create(name="renamed").name == "renamed"


def test_embedding_config_stored_as_given(client: Letta) -> None:
    config = {
        "embedding_endpoint_type": "ollama",
        "embedding_model": "nomic-embed-text",
        "embedding_dim": 768,
        "embedding_chunk_size": 120,
        "embedding_endpoint": "http://127.0.0.1:11434",
    }
    folder = client.folders.create(name="custom", embedding_config=config)
    assert folder.embedding_config.model_dump(exclude_none=True) == config
    by_handle = client.folders.create(name="handle", embedding="mistral/mistral-embed", embedding_chunk_size=64)
    assert by_handle.embedding_config.embedding_endpoint_type == "mistral"
    assert by_handle.embedding_config.embedding_model == "mistral-embed"
    assert by_handle.embedding_config.embedding_chunk_size == 64


def test_duplicate_name_is_a_409_not_retried(gateway: ThreadedGateway) -> None:
    letta(gateway).folders.create(name="same")
    # With retries on: x-should-retry: false must stop them (one request).
    requests: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [requests.append]})
    client = Letta(base_url=gateway.url, api_key="unused-key-0123456789", max_retries=2, http_client=http)
    with pytest.raises(letta_client.ConflictError) as caught:
        client.folders.create(name="same")
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body == {"detail": "A folder named 'same' already exists"}
    assert len(requests) == 1


async def test_concurrent_creates_of_one_name(gateway: ThreadedGateway) -> None:
    import asyncio

    client = async_letta(gateway)
    results = await asyncio.gather(*(client.folders.create(name="race") for _ in range(10)), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, letta_client.ConflictError) for r in results if r not in winners)
    listed = [f async for f in client.folders.list(limit=100)]
    assert [f.id for f in listed] == [winners[0].id]


def test_list_order_cursors_and_name(client: Letta) -> None:
    ids = [client.folders.create(name=f"f{i}").id for i in range(7)]
    assert [f.id for f in client.folders.list()] == ids  # default: oldest first
    assert [f.id for f in client.folders.list(order="desc")] == ids[::-1]
    page = client.folders.list(limit=3)
    assert [f.id for f in page.items] == ids[:3]
    assert [f.id for f in page] == ids  # auto-pagination with after=
    assert [f.id for f in client.folders.list(after=ids[2], limit=2).items] == ids[3:5]
    assert [f.id for f in client.folders.list(before=ids[5], limit=2).items] == ids[3:5]
    assert [f.id for f in client.folders.list(after=ids[1], before=ids[4]).items] == ids[2:4]
    assert [f.id for f in client.folders.list(order="desc", before=ids[1], limit=2).items] == ids[3:1:-1]
    assert [f.id for f in client.folders.list(name="f4")] == [ids[4]]
    assert client.folders.list(name="f4", after=ids[4]).items == []
    assert client.folders.list(name="nope").items == []


def test_folder_delete_removes_its_files(client: Letta, folder_id: str) -> None:
    meta = client.folders.files.upload(folder_id, file=("a.txt", io.BytesIO(b"words")))
    other = client.folders.create(name="other").id
    kept = client.folders.files.upload(other, file=("a.txt", io.BytesIO(b"words")))
    client.folders.delete(folder_id)
    with pytest.raises(letta_client.NotFoundError):
        client.folders.files.retrieve(meta.id, folder_id=folder_id)
    with pytest.raises(letta_client.NotFoundError):
        client.folders.files.list(folder_id)
    assert [f.id for f in client.folders.files.list(other)] == [kept.id]
    # A folder made again under the same name starts empty.
    again = client.folders.create(name="tests").id
    assert client.folders.files.list(again).items == []


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda c: c.folders.retrieve("source-00000000-0000-4000-8000-000000000000"), 404),
        (lambda c: c.folders.retrieve("folder-1"), 422),
        (lambda c: c.folders.retrieve("source-not-a-uuid"), 422),
        (lambda c: c.folders.delete("source-00000000-0000-4000-8000-000000000000"), 404),
        (lambda c: c.folders.update("source-00000000-0000-4000-8000-000000000000", name="x"), 404),
        (lambda c: c.folders.agents.list("source-00000000-0000-4000-8000-000000000000"), 404),
        (lambda c: c.folders.create(name=""), 400),
        (lambda c: c.folders.create(name="x", embedding_config={"embedding_model": "m"}), 400),
        (lambda c: c.folders.create(name="x", embedding="no-slash"), 400),
        (lambda c: c.folders.create(name="x", embedding="nobody/model"), 400),
        (lambda c: c.folders.list(limit=0), 422),
        (lambda c: c.folders.list(extra_query={"limit": "²"}), 422),
        (lambda c: c.folders.list(extra_query={"limit": "9" * 5000}), 422),
        (lambda c: c.folders.list(order="sideways"), 422),
        (lambda c: c.folders.list(after="source-00000000-0000-4000-8000-000000000000"), 400),
    ],
)
def test_folder_errors(client: Letta, call, status: int) -> None:
    with pytest.raises(letta_client.APIStatusError) as caught:
        call(client)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict) and set(caught.value.body) == {"detail"}
    assert caught.value.body["detail"]
