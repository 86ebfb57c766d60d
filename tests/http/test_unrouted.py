"""Requests no family's app is reached for still get the family's format."""

from __future__ import annotations

import json
import socket

import pytest

from ..server import ThreadedGateway


def raw(server: ThreadedGateway, request: bytes) -> tuple[bytes, dict]:
    with socket.create_connection(("127.0.0.1", server.settings.port)) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, json.loads(body)


@pytest.mark.parametrize(
    ("path", "key"), [("/api/sessions", "error"), ("/v1/folders/", "detail"), ("/api/nothing/here", "error")]
)
def test_connect_on_a_family_route_is_in_its_format(gateway: ThreadedGateway, path: str, key: str) -> None:
    head, body = raw(gateway, f"CONNECT {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert head.startswith(b"HTTP/1.1 404")
    assert b"application/json" in head
    assert key in body
