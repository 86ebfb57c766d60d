"""Request bodies answered where they enter (``bodies.py``): JSON that
cannot be read at any depth, and content codings the gateway does not take,
in each family's format, on a server run as the CLI runs it; then
``read_json``'s answers on a tiny app."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, Field

from gateway.http.bodies import identity_bodies, read_json
from gateway.http.errors import error_middleware
from gateway.sessions.errors import render_error
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


class Titled(BaseModel):
    title: str = Field(max_length=10)
    count: int = 0


async def create(request: web.Request) -> web.Response:
    return web.json_response((await read_json(request, Titled)).model_dump())


@pytest.fixture
async def tiny(aiohttp_client) -> TestClient:  # noqa: ANN001
    """``read_json`` on a tiny app, its refusals rendered as the family would."""
    app = web.Application(middlewares=[error_middleware(render_error), identity_bodies])
    app.router.add_post("/", create)
    return await aiohttp_client(app)


async def test_a_body_of_the_model_is_read(tiny: TestClient) -> None:
    response = await tiny.post("/", json={"title": "t", "count": 2})
    assert (response.status, await response.json()) == (200, {"title": "t", "count": 2})


@pytest.mark.parametrize(
    ("body", "headers", "status", "kind", "message"),
    [
        (b'{"title": "t"}', {"Content-Type": "text/plain"}, 415, "bad_request", "Expected an application/json body"),
        (b'{"title": ', {"Content-Type": "application/json"}, 400, "bad_request", "Request body is not valid JSON"),
        (b"[" * 100_000, {"Content-Type": "application/json"}, 400, "bad_request", "Request body is not valid JSON"),
        (
            b'{"title": "far too long a title", "count": "x"}',
            {"Content-Type": "application/json"},
            400,
            "validation_error",
            "Invalid request body: title: String should have at most 10 characters; count: Input should be a valid",
        ),
        (b"[]", {"Content-Type": "application/json"}, 400, "validation_error", "Invalid request body: body: Input"),
        (b"{}", {"Content-Type": "application/json", "Content-Encoding": "br"}, 415, "bad_request", "'br'"),
    ],
    ids=["not-json", "cut", "deep", "invalid-fields", "not-an-object", "compressed"],
)
async def test_refused_bodies_say_why(
    tiny: TestClient, body: bytes, headers: dict[str, str], status: int, kind: str, message: str
) -> None:
    response = await tiny.post("/", data=body, headers=headers)
    error = (await response.json())["error"]
    assert (response.status, error["code"], error["type"]) == (status, status, kind)
    assert message in error["message"]
