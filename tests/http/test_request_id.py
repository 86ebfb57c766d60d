"""X-Request-ID (``request_id.py``): kept when well-formed, made otherwise,
on every response: on a tiny app, then on the gateway's own app (in memory,
in the test's loop)."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.http.request_id import REQUEST_ID, add_request_id_header, request_id_middleware
from gateway.settings import Settings

MADE = re.compile(r"[0-9a-f]{32}")
MALFORMED = ["has space", "x" * 129, "new\\nline", "<script>", ""]


async def echo(request: web.Request) -> web.Response:
    return web.Response(text=request[REQUEST_ID])


async def refuse(request: web.Request) -> web.Response:
    raise web.HTTPBadRequest(text="no")


async def tiny(aiohttp_client) -> TestClient:  # noqa: ANN001
    app = web.Application(middlewares=[request_id_middleware])
    app.on_response_prepare.append(add_request_id_header)
    app.router.add_get("/", echo)
    app.router.add_get("/refused", refuse)
    return await aiohttp_client(app)


@pytest.mark.parametrize(("path", "status"), [("/", 200), ("/refused", 400), ("/nowhere", 404)])
async def test_each_response_gets_a_new_id(aiohttp_client, path: str, status: int) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client)
    first, second = await client.get(path), await client.get(path)
    assert (first.status, second.status) == (status, status)
    assert MADE.fullmatch(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("offered", ["trace-1234.abc:9", "A" * 128, "0"])
async def test_a_well_formed_id_is_kept_and_seen_by_the_handler(aiohttp_client, offered: str) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client)
    response = await client.get("/", headers={"X-Request-ID": offered})
    assert response.headers["X-Request-ID"] == offered
    assert await response.text() == offered
    refused = await client.get("/refused", headers={"X-Request-ID": offered})
    assert (refused.status, refused.headers["X-Request-ID"]) == (400, offered)


@pytest.mark.parametrize("offered", MALFORMED)
async def test_a_malformed_id_is_replaced(aiohttp_client, offered: str) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client)
    response = await client.get("/", headers={"X-Request-ID": offered})
    assert MADE.fullmatch(response.headers["X-Request-ID"])
    assert await response.text() == response.headers["X-Request-ID"]


@pytest.fixture
async def gateway(aiohttp_client) -> TestClient:  # noqa: ANN001
    return await aiohttp_client(create_app(Settings(storage="memory://")))


@pytest.mark.parametrize("path", ["/health", "/api/sessions", "/api/sessions/not-a-uuid", "/nowhere"])
async def test_the_gateway_makes_one_for_every_response(gateway: TestClient, path: str) -> None:
    first = (await gateway.get(path)).headers["x-request-id"]
    second = (await gateway.get(path)).headers["x-request-id"]
    assert MADE.fullmatch(first)
    assert first != second


async def test_the_gateway_keeps_a_well_formed_one_on_a_family_error(gateway: TestClient) -> None:
    response = await gateway.get("/api/sessions/nope", headers={"X-Request-ID": "trace-1234.abc:9"})
    assert response.status == 400
    assert response.headers["x-request-id"] == "trace-1234.abc:9"


@pytest.mark.parametrize("offered", MALFORMED)
async def test_the_gateway_replaces_a_malformed_one(gateway: TestClient, offered: str) -> None:
    response = await gateway.get("/health", headers={"X-Request-ID": offered})
    assert MADE.fullmatch(response.headers["x-request-id"])
