"""API keys (``auth.py``): every route but health needs ``Authorization: Bearer <key>``.

The middleware's rules on a tiny app; on the gateway's own app (in memory,
in the test's loop), that every route of both families is behind it and
what the official client sees."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from mix_python_sdk import Mix, errors

from gateway.app import create_app
from gateway.http.auth import auth_middleware
from gateway.http.errors import error_middleware
from gateway.sessions.errors import render_error
from gateway.settings import Settings

from ..mix_client import NO_RETRIES
from .routes import routes

KEYS = ("first-key-0123456789", "second-key-0123456789")
WRONG = [None, "Bearer wrong-key-0123456789", f"Basic {KEYS[0]}", f"Bearer {KEYS[0]}x", "Bearer"]
UNAUTHORIZED = {"error": {"code": 401, "message": "Missing or invalid API key", "type": "unauthorized"}}
#: Open by design (README, "API keys"): the health checks and the API description.
OPEN = {"/health", "/healthz", "/readyz", "/openapi.json", "/docs", "/docs/start.js"}


async def reached(request: web.Request) -> web.Response:
    return web.Response(text="reached")


def tiny_app(opened_by_link: Callable[[web.Request], bool] | None = None) -> web.Application:
    app = web.Application(middlewares=[error_middleware(render_error), auth_middleware(KEYS, opened_by_link)])
    app.router.add_get("/", reached)
    app.router.add_get("/linked", reached)
    return app


@pytest.mark.parametrize("header", [f"Bearer {KEYS[0]}", f"Bearer {KEYS[1]}", f"bearer {KEYS[0]}"])
async def test_each_key_opens(aiohttp_client, header: str) -> None:  # noqa: ANN001
    client = await aiohttp_client(tiny_app())
    response = await client.get("/", headers={"Authorization": header})
    assert (response.status, await response.text()) == (200, "reached")


@pytest.mark.parametrize("header", [*WRONG, f"Bearer {KEYS[0][:-1]}", f"Bearer {KEYS[0]} {KEYS[1]}"])
async def test_missing_or_wrong_keys_are_401(aiohttp_client, header: str | None) -> None:  # noqa: ANN001
    client = await aiohttp_client(tiny_app())
    response = await client.get("/", headers={"Authorization": header} if header else {})
    assert response.status == 401
    assert await response.json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_what_a_link_opens_needs_no_key(aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(tiny_app(opened_by_link=lambda request: request.path == "/linked"))
    assert (await client.get("/linked")).status == 200
    assert (await client.get("/")).status == 401


@pytest.fixture
async def gateway(aiohttp_client) -> TestClient:  # noqa: ANN001
    return await aiohttp_client(create_app(Settings(storage="memory://", api_keys=KEYS)))


@pytest.mark.parametrize("header", WRONG)
async def test_session_routes_with_missing_or_wrong_keys_are_401(gateway: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    sid = uuid.uuid4()
    for method, path in [
        ("GET", "/api/sessions"),
        ("POST", "/api/sessions"),
        ("GET", f"/api/sessions/{sid}"),
        ("DELETE", f"/api/sessions/{sid}"),
        ("GET", f"/api/sessions/{sid}/files"),
        ("POST", f"/api/sessions/{sid}/files/upload"),
        ("GET", f"/api/sessions/{sid}/files/a.txt"),
        ("DELETE", f"/api/sessions/{sid}/files/a.txt"),
        ("GET", "/api/no-such-route"),
    ]:
        response = await gateway.request(method, path, headers=headers)
        assert response.status == 401, (method, path)
        assert await response.json() == UNAUTHORIZED
        assert response.headers["www-authenticate"] == "Bearer"


async def test_every_route_but_the_open_ones_needs_a_key(gateway: TestClient) -> None:
    every = sorted(set(routes(gateway.app)))
    assert len(every) > 20
    for path, method in every:
        response = await gateway.request(method, path)
        if path in OPEN:
            assert response.status == 200, (method, path)
            continue
        assert response.status == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        if method == "HEAD":
            continue
        if path.startswith("/v1/"):
            assert await response.json() == {"detail": "Unauthorized"}
        elif path.startswith("/api/"):
            assert await response.json() == UNAUTHORIZED


def sdk(client: TestClient, key: str | None) -> Mix:
    """The official client, async, on the app in the test's loop."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = str(client.make_url("")).rstrip("/")
    return Mix(server_url=url, retry_config=NO_RETRIES, async_client=httpx.AsyncClient(headers=headers))


@pytest.mark.parametrize("key", KEYS)
async def test_each_key_works_through_the_client(gateway: TestClient, key: str) -> None:
    mix = sdk(gateway, key)
    session = await mix.sessions.create_async(browser_mode="local-browser-service", title="authed")
    await mix.files.upload_session_file_async(id=session.id, file={"file_name": "a.txt", "content": b"a"})
    downloaded = await mix.files.get_session_file_async(id=session.id, filename="a.txt")
    assert await downloaded.aread() == b"a"


async def test_the_client_sees_unauthorized(gateway: TestClient) -> None:
    with pytest.raises(errors.MixError) as caught:
        await sdk(gateway, None).sessions.list_async()
    assert caught.value.status_code == 401


async def test_health_is_open(gateway: TestClient) -> None:
    assert (await sdk(gateway, None).system.get_health_async()).status == "ok"


async def test_without_keys_everything_is_open(aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://")))
    assert await sdk(client, None).sessions.list_async() == []
