"""API keys: every route but health needs ``Authorization: Bearer <key>``."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from mix_python_sdk import Mix, errors

from ..mix_client import client
from ..server import ThreadedGateway

KEYS = ("first-key-0123456789", "second-key-0123456789")


@pytest.fixture
def server(start_gateway: Callable[..., ThreadedGateway]) -> ThreadedGateway:
    return start_gateway(api_keys=KEYS)


def sdk(server: ThreadedGateway, key: str | None) -> Mix:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client(server, client=httpx.Client(headers=headers))


@pytest.mark.parametrize("key", KEYS)
def test_each_key_works_through_the_client(server: ThreadedGateway, key: str) -> None:
    mix = sdk(server, key)
    session = mix.sessions.create(browser_mode="local-browser-service", title="authed")
    mix.files.upload_session_file(id=session.id, file={"file_name": "a.txt", "content": b"a"})
    assert mix.files.get_session_file(id=session.id, filename="a.txt").read() == b"a"


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-key-0123456789", f"Basic {KEYS[0]}", f"Bearer {KEYS[0]}x", "Bearer"]
)
def test_missing_or_wrong_keys_are_401(server: ThreadedGateway, header: str | None) -> None:
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
        response = httpx.request(method, f"{server.url}{path}", headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json() == {
            "error": {"code": 401, "message": "Missing or invalid API key", "type": "unauthorized"}
        }
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_client_sees_unauthorized(server: ThreadedGateway) -> None:
    with pytest.raises(errors.MixError) as caught:
        sdk(server, None).sessions.list()
    assert caught.value.status_code == 401


def test_health_is_open(server: ThreadedGateway) -> None:
    assert sdk(server, None).system.get_health().status == "ok"


def test_without_keys_everything_is_open(gateway: ThreadedGateway) -> None:
    assert sdk(gateway, None).sessions.list() == []
