"""File URLs as the client saw them, through trusted proxies only."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from .. import rawhttp
from ..server import ThreadedGateway


def upload_url(server: ThreadedGateway, headers: dict[str, str]) -> str:
    session = httpx.post(f"{server.url}/api/sessions", json={"title": "fw"}).json()
    response = httpx.post(
        f"{server.url}/api/sessions/{session['id']}/files/upload",
        files={"file": ("a b.txt", b"x")},
        headers=headers,
    )
    assert response.status_code == 201
    listed = httpx.get(f"{server.url}/api/sessions/{session['id']}/files", headers=headers).json()
    assert listed[0]["url"] == response.json()["url"]
    return response.json()["url"]


@pytest.fixture
def trusting(start_gateway: Callable[..., ThreadedGateway]) -> ThreadedGateway:
    from ipaddress import ip_network

    return start_gateway(trusted_proxies=(ip_network("127.0.0.0/8"),))


@pytest.mark.parametrize(
    ("headers", "origin"),
    [
        ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "files.example.com"}, "https://files.example.com"),
        (
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "files.example.com:8443"},
            "https://files.example.com:8443",
        ),
        ({"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "a.example, b.example"}, "https://b.example"),
        ({"Forwarded": 'for=203.0.113.7;proto=https;host="files.example.com"'}, "https://files.example.com"),
        (
            {"Forwarded": "for=1.2.3.4;proto=http;host=x.example, for=10.0.0.1;proto=https;host=y.example"},
            "https://y.example",
        ),
        ({"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "bad host/x"}, None),
    ],
)
def test_trusted_proxy_headers_shape_urls(
    trusting: ThreadedGateway, headers: dict[str, str], origin: str | None
) -> None:
    url = upload_url(trusting, headers)
    assert url.startswith(f"{origin or trusting.url}/api/sessions/")
    assert url.split("?")[0].endswith("/files/a%20b.txt")


def test_untrusted_peer_headers_are_ignored(gateway: ThreadedGateway) -> None:
    forged = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "Forwarded": "proto=https;host=evil.example",
    }
    assert upload_url(gateway, forged).startswith(f"{gateway.url}/api/sessions/")


def test_trust_is_by_network(start_gateway: Callable[..., ThreadedGateway]) -> None:
    from ipaddress import ip_network

    server = start_gateway(trusted_proxies=(ip_network("10.0.0.0/8"),))
    assert upload_url(server, {"X-Forwarded-Host": "evil.example"}).startswith(server.url)


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
async def test_client_address(aiohttp_client, trusted: list[str], headers: dict[str, str], remote: str) -> None:
    from ipaddress import ip_network

    from aiohttp import web

    from gateway.http.forwarded import forwarded_middleware

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    app = web.Application(middlewares=[forwarded_middleware([ip_network(n) for n in trusted])])
    app.router.add_get("/", echo)
    client = await aiohttp_client(app)
    assert await (await client.get("/", headers=headers)).text() == remote


def first_url_listed(gateway: ThreadedGateway, request_head: str) -> None:
    """Upload a file, then list its session over a bare socket with
    ``request_head`` (the request line and headers): the listed url must be
    the one the upload answered, port included."""
    url = upload_url(gateway, {})
    session_files = url.split("/files/")[0].removeprefix(gateway.url) + "/files"
    with rawhttp.connect(gateway.settings.port) as sock:
        sock.sendall(request_head.format(path=session_files).encode())
        response = rawhttp.read_response(sock)
    assert response.status == 200, response  # an unreadable Host was a 500
    listed = response.json()
    assert isinstance(listed, list)
    assert listed[0]["url"] == url


def test_http10_without_host_gets_urls_with_the_port(gateway: ThreadedGateway) -> None:
    first_url_listed(gateway, "GET {path} HTTP/1.0\r\n\r\n")


@pytest.mark.parametrize("host", ["a:99999", "a:-1", "a:65536"])
def test_an_unreadable_host_gets_urls_of_the_address_it_came_to(gateway: ThreadedGateway, host: str) -> None:
    first_url_listed(gateway, f"GET {{path}} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
