"""Scheme, host and client address through trusted proxies only
(``forwarded.py``): the middleware on a tiny app, then the file URLs the
gateway's own app (in memory, in the test's loop) hands out."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_network

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.http.forwarded import forwarded_middleware
from gateway.settings import Settings

from .. import rawhttp

LOOPBACK = ("127.0.0.0/8",)
PROXIED = [
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "files.example.com"}, "https://files.example.com"),
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "files.example.com:8443"}, "https://files.example.com:8443"),
    ({"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "a.example, b.example"}, "https://b.example"),
    ({"Forwarded": 'for=203.0.113.7;proto=https;host="files.example.com"'}, "https://files.example.com"),
    (
        {"Forwarded": "for=1.2.3.4;proto=http;host=x.example, for=10.0.0.1;proto=https;host=y.example"},
        "https://y.example",
    ),
    ({"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "bad host/x"}, None),
]
FORGED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "Forwarded": "proto=https;host=evil.example",
}

#: Requests (their heads) without a Host the URLs handed out can be built from.
UNREADABLE_HOST = [
    "GET {path} HTTP/1.0\r\n\r\n",
    *(f"GET {{path}} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n" for host in ["a:99999", "a:-1", "a:65536"]),
]
UNREADABLE_HOST_IDS = ["http10-without-host", "a:99999", "a:-1", "a:65536"]


async def as_seen(request: web.Request) -> web.Response:
    return web.json_response({"origin": str(request.url.origin()), "remote": request.remote})


async def tiny(aiohttp_client, trusted: Sequence[str]) -> TestClient:  # noqa: ANN001
    app = web.Application(middlewares=[forwarded_middleware([ip_network(n) for n in trusted])])
    app.router.add_get("/", as_seen)
    return await aiohttp_client(app)


def own_origin(client: TestClient) -> str:
    return f"http://127.0.0.1:{client.port}"


async def seen(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    response = await client.get("/", headers=headers)
    assert response.status == 200
    return await response.json()


@pytest.mark.parametrize(("headers", "origin"), PROXIED)
async def test_trusted_proxy_headers_set_scheme_and_host(aiohttp_client, headers: dict, origin: str | None) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client, LOOPBACK)
    assert (await seen(client, headers))["origin"] == (origin or own_origin(client))


@pytest.mark.parametrize("trusted", [(), ("10.0.0.0/8",)], ids=["none", "another-network"])
async def test_headers_of_an_untrusted_peer_are_ignored(aiohttp_client, trusted: Sequence[str]) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client, trusted)
    for headers in [FORGED, {"X-Forwarded-Host": "evil.example"}, {"X-Forwarded-For": "203.0.113.9"}]:
        assert await seen(client, headers) == {"origin": own_origin(client), "remote": "127.0.0.1"}


@pytest.mark.parametrize(
    ("trusted", "headers", "remote"),
    [
        (["127.0.0.1/32"], {"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
        (["127.0.0.1/32", "10.0.0.0/8"], {"X-Forwarded-For": "203.0.113.9, 198.51.100.1, 10.1.2.3"}, "198.51.100.1"),
        (["127.0.0.1/32"], {"Forwarded": 'for="[2001:db8::1]:4711"'}, "2001:db8::1"),
        (["127.0.0.1/32"], {"X-Forwarded-For": "not-an-ip"}, "127.0.0.1"),
        ([], {"X-Forwarded-For": "203.0.113.9"}, "127.0.0.1"),
        (["10.0.0.0/8"], {"X-Forwarded-For": "203.0.113.9"}, "127.0.0.1"),
    ],
)
async def test_client_address(aiohttp_client, trusted: list[str], headers: dict[str, str], remote: str) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client, trusted)
    assert (await seen(client, headers))["remote"] == remote


@pytest.mark.parametrize("head", UNREADABLE_HOST, ids=UNREADABLE_HOST_IDS)
async def test_without_a_readable_host_the_address_it_came_to_port_included(aiohttp_client, head: str) -> None:  # noqa: ANN001
    client = await tiny(aiohttp_client, ())
    response = await rawhttp.exchange(client.port, head.format(path="/").encode())
    assert response.status == 200, response  # an unreadable Host was a 500
    assert response.json() == {"origin": own_origin(client), "remote": "127.0.0.1"}


async def upload_url(client: TestClient, headers: dict[str, str]) -> str:
    """Upload a file; the url it was answered with, checked against its listing."""
    session = await (await client.post("/api/sessions", json={"title": "fw"})).json()
    # By hand: aiohttp's form would send the space as %20, a literal part of the name.
    form = rawhttp.multipart_head("a b.txt") + b"x" + rawhttp.multipart_tail()
    multipart = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    uploaded = await client.post(f"/api/sessions/{session['id']}/files/upload", data=form, headers=headers | multipart)
    assert uploaded.status == 201
    url = (await uploaded.json())["url"]
    listed = await (await client.get(f"/api/sessions/{session['id']}/files", headers=headers)).json()
    assert listed[0]["url"] == url
    return url


@pytest.mark.parametrize(("headers", "origin"), PROXIED)
async def test_file_urls_are_as_the_client_saw_them(aiohttp_client, headers: dict, origin: str | None) -> None:  # noqa: ANN001
    trusting = Settings(storage="memory://", trusted_proxies=tuple(ip_network(n) for n in LOOPBACK))
    client = await aiohttp_client(create_app(trusting))
    url = await upload_url(client, headers)
    assert url.startswith(f"{origin or own_origin(client)}/api/sessions/")
    assert url.split("?")[0].endswith("/files/a%20b.txt")


@pytest.mark.parametrize("trusted", [(), ("10.0.0.0/8",)], ids=["none", "another-network"])
async def test_file_urls_ignore_an_untrusted_peer(aiohttp_client, trusted: Sequence[str]) -> None:  # noqa: ANN001
    settings = Settings(storage="memory://", trusted_proxies=tuple(ip_network(n) for n in trusted))
    client = await aiohttp_client(create_app(settings))
    assert (await upload_url(client, FORGED)).startswith(f"{own_origin(client)}/api/sessions/")


@pytest.mark.parametrize("head", UNREADABLE_HOST, ids=UNREADABLE_HOST_IDS)
async def test_file_urls_listed_without_a_readable_host_have_the_port(aiohttp_client, head: str) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://")))
    url = await upload_url(client, {})
    session_files = url.split("/files/")[0].removeprefix(own_origin(client)) + "/files"
    response = await rawhttp.exchange(client.port, head.format(path=session_files).encode())
    assert response.status == 200, response
    listed = response.json()
    assert isinstance(listed, list)
    assert listed[0]["url"] == url
