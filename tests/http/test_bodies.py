"""Request bodies answered where they enter: JSON that cannot be read at any
depth, and content codings the gateway does not take, in each family's
format, on a server run as the CLI runs it."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest

from gateway.settings import Settings

from ..server import ThreadedGateway

ROUTES = {"sessions": "/api/sessions", "folders": "/v1/folders/"}


def family_error(family: str, body: dict) -> str:
    return body["error"]["message"] if family == "sessions" else body["detail"]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with ThreadedGateway(Settings(storage="memory://")) as server, httpx.Client(base_url=server.url) as client:
        yield client


@pytest.mark.parametrize("family", ROUTES)
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"a":' * 50_000, b"\xff\xfe", b"{", b'"\\ud800"', b"1e999999"],
    ids=["deep-list", "deep-object", "not-utf8", "cut", "lone-surrogate", "huge-number"],
)
def test_json_that_cannot_be_read_is_4xx(client: httpx.Client, family: str, body: bytes) -> None:
    response = client.post(ROUTES[family], content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert family_error(family, response.json())
    assert client.get(ROUTES[family]).json() == []


@pytest.mark.parametrize("family", ROUTES)
@pytest.mark.parametrize(
    ("coding", "body"),
    [("gzip", b"not gzip at all"), ("gzip", gzip.compress(b'{"title": "t", "name": "n"}')), ("br", b"x"), ("zz", b"x")],
)
def test_compressed_request_bodies_are_415(client: httpx.Client, family: str, coding: str, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    response = client.post(ROUTES[family], content=body, headers=headers)
    assert response.status_code == 415
    assert "uncompressed" in family_error(family, response.json())
    assert client.get(ROUTES[family]).json() == []  # the same connection still works


def test_identity_is_accepted(client: httpx.Client) -> None:
    response = client.post("/api/sessions", json={"title": "t"}, headers={"Content-Encoding": "identity"})
    assert response.status_code == 201
