"""Errors (``errors.py``): everything raised below a family's app rendered in
its format, with the status each cause calls for; aiohttp's own errors
before any family's app in the format of the family the path belongs to.

On a tiny app with a renderer of its own, then the gateway's own app (in
memory, in the test's loop) for a method no router matches."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from backends import StorageFull, StorageUnavailable
from gateway.app import create_app
from gateway.http.errors import ApiError, bad_request, error_middleware, invalid, not_found, unrouted_middleware
from gateway.settings import Settings

from .. import rawhttp


def render(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    return web.json_response({"status": status, "message": message, "kind": kind}, status=status, headers=headers)


def render_other(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    return web.json_response({"other": message}, status=status, headers=headers)


def raising(make: Callable[[], BaseException]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        raise make()

    return handler


RAISED = {
    "/api-error": lambda: ApiError(409, "Name taken", kind="conflict", headers={"X-Extra": "1"}),
    "/bad-request": lambda: bad_request("Bad thing"),
    "/invalid": lambda: invalid("Invalid thing"),
    "/not-found": lambda: not_found("No such thing"),
    "/unavailable": lambda: StorageUnavailable("connection refused"),
    "/full": lambda: StorageFull("no space left"),
    "/too-large": lambda: web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20),
    "/aiohttp-text": lambda: web.HTTPConflict(text="aiohttp says more"),
    "/redirect": lambda: web.HTTPFound("/elsewhere"),
    "/broken": lambda: RuntimeError("a bug"),
}


@pytest.fixture
def calls() -> list[str]:
    """What the middleware reported: an unavailable or a full storage."""
    return []


@pytest.fixture
async def client(aiohttp_client, calls: list[str]) -> TestClient:  # noqa: ANN001
    middleware = error_middleware(
        render, on_unavailable=lambda: calls.append("unavailable"), on_full=lambda: calls.append("full")
    )
    app = web.Application(middlewares=[middleware])
    for path, make in RAISED.items():
        app.router.add_get(path, raising(make))
    return await aiohttp_client(app)


@pytest.mark.parametrize(
    ("path", "status", "message", "kind"),
    [
        ("/api-error", 409, "Name taken", "conflict"),
        ("/bad-request", 400, "Bad thing", "bad_request"),
        ("/invalid", 400, "Invalid thing", "validation_error"),
        ("/not-found", 404, "No such thing", ""),
        ("/too-large", 413, "Maximum request body size 10 exceeded.", ""),
        ("/aiohttp-text", 409, "aiohttp says more", ""),
        ("/nowhere", 404, "Not Found", ""),
    ],
)
async def test_refusals_in_the_renderers_format(
    client: TestClient, calls: list[str], path: str, status: int, message: str, kind: str
) -> None:
    response = await client.get(path)
    assert response.status == status
    assert response.content_type == "application/json"
    assert await response.json() == {"status": status, "message": message, "kind": kind}
    assert calls == []


async def test_headers_of_the_error_are_sent(client: TestClient) -> None:
    assert (await client.get("/api-error")).headers["X-Extra"] == "1"
    wrong_method = await client.post("/api-error")
    assert (wrong_method.status, wrong_method.headers["Allow"]) == (405, "GET,HEAD")
    assert (await wrong_method.json())["message"] == "Method Not Allowed"


@pytest.mark.parametrize(
    ("path", "status", "retry_after", "call"), [("/unavailable", 503, "5", "unavailable"), ("/full", 507, "60", "full")]
)
async def test_storage_down_or_full_is_5xx_with_retry_after(
    client: TestClient, calls: list[str], path: str, status: int, retry_after: str, call: str
) -> None:
    response = await client.get(path)
    assert (response.status, response.headers["Retry-After"]) == (status, retry_after)
    body = await response.json()
    assert body["status"] == status
    assert "connection refused" not in body["message"] and "no space" not in body["message"]
    assert calls == [call]


async def test_a_redirect_passes_through(client: TestClient) -> None:
    response = await client.get("/redirect", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/elsewhere")


async def test_a_bug_is_a_logged_500_that_tells_nothing(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway.http.errors"):
        response = await client.get("/broken")
    assert response.status == 500
    assert await response.json() == {"status": 500, "message": "Internal server error", "kind": ""}
    assert "GET /broken" in caplog.text and "a bug" in caplog.text


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest.fixture
async def unrouted(aiohttp_client) -> TestClient:  # noqa: ANN001
    app = web.Application(middlewares=[unrouted_middleware({"/api/": render, "/v1/": render_other})])
    app.router.add_get("/api/things", ok)
    app.router.add_get("/v1/things", ok)
    app.router.add_get("/elsewhere", ok)
    return await aiohttp_client(app)


async def connect(client: TestClient, path: str) -> rawhttp.Response:
    """CONNECT, which no client sends to a path and no route matches."""
    return await rawhttp.exchange(
        client.port, f"CONNECT {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )


async def test_unrouted_requests_in_the_format_of_their_prefix(unrouted: TestClient) -> None:
    response = await connect(unrouted, "/api/things")
    assert response.status == 404
    assert response.json() == {"status": 404, "message": "Not Found", "kind": ""}
    assert (await connect(unrouted, "/v1/things")).json() == {"other": "Not Found"}
    wrong_method = await unrouted.delete("/v1/things")
    assert (wrong_method.status, await wrong_method.json()) == (405, {"other": "Method Not Allowed"})
    assert wrong_method.headers["Allow"] == "GET,HEAD"


async def test_unrouted_requests_outside_the_prefixes_stay_aiohttps(unrouted: TestClient) -> None:
    response = await connect(unrouted, "/elsewhere")
    assert response.status == 404
    assert not response.headers["content-type"].startswith("application/json")
    assert (await unrouted.get("/elsewhere")).status == 200


@pytest.mark.parametrize(
    ("path", "key"), [("/api/sessions", "error"), ("/v1/folders/", "detail"), ("/api/nothing/here", "error")]
)
async def test_connect_on_a_family_route_of_the_gateway_is_in_its_format(aiohttp_client, path: str, key: str) -> None:  # noqa: ANN001
    gateway = await aiohttp_client(create_app(Settings(storage="memory://")))
    response = await connect(gateway, path)
    assert response.status == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and key in body
