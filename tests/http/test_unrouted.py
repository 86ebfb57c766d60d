"""Requests no family's app is reached for still get the family's format."""

from __future__ import annotations

import pytest

from .. import rawhttp
from ..server import ThreadedGateway


@pytest.mark.parametrize(
    ("path", "key"), [("/api/sessions", "error"), ("/v1/folders/", "detail"), ("/api/nothing/here", "error")]
)
def test_connect_on_a_family_route_is_in_its_format(gateway: ThreadedGateway, path: str, key: str) -> None:
    with rawhttp.connect(gateway.settings.port) as sock:
        sock.sendall(f"CONNECT {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        response = rawhttp.read_response(sock)
    assert response.status == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and key in body
