"""``Expect: 100-continue`` on every upload route (``expect_upload``): a
declared length over the limit is answered 413 in the family's format and
never told to continue; one within it is, and its upload is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from gateway.settings import Settings

from ..rawhttp import connect, multipart_head, multipart_tail, read_response, upload_head
from ..server import ThreadedGateway

LIMIT = 1000
EXPECT = "Expect: 100-continue\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedGateway]:
    with ThreadedGateway(Settings(storage="memory://", max_upload_bytes=LIMIT)) as gateway:
        yield gateway


def paths(server: ThreadedGateway, family: str) -> tuple[str, str]:
    """Where to upload, where the files are listed."""
    if family == "sessions":
        session = httpx.post(f"{server.url}/api/sessions", json={"title": "expect"}).json()["id"]
        return f"/api/sessions/{session}/files/upload", f"/api/sessions/{session}/files"
    folder = httpx.post(f"{server.url}/v1/{family}", json={"name": uuid.uuid4().hex}).json()["id"]
    return f"/v1/{family}/{folder}/upload", f"/v1/{family}/{folder}/files"


def error_message(family: str, body: object) -> str:
    assert isinstance(body, dict)
    return body["error"]["message"] if family == "sessions" else body["detail"]


@pytest.mark.parametrize("family", ["sessions", "folders", "sources"])
def test_over_the_limit_is_413_without_100_continue(server: ThreadedGateway, family: str) -> None:
    path, _ = paths(server, family)
    with connect(server.settings.port) as sock:
        sock.sendall(upload_head(path, 10 * 1024**3, extra=EXPECT))
        response = read_response(sock)  # the first thing answered: no "100 Continue" before it
    assert response.status == 413
    assert f"the limit is {LIMIT} bytes" in error_message(family, response.json())
    assert "x-request-id" in response.headers  # through the middlewares like any answer


@pytest.mark.parametrize("family", ["sessions", "folders", "sources"])
def test_within_the_limit_continues_and_is_stored(server: ThreadedGateway, family: str) -> None:
    path, listing = paths(server, family)
    body = multipart_head("notes.txt") + b"a few words" + multipart_tail()
    with connect(server.settings.port) as sock:
        sock.sendall(upload_head(path, len(body), extra=EXPECT))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        response = read_response(sock)
    assert response.status == (201 if family == "sessions" else 200)
    files = httpx.get(f"{server.url}{listing}").json()
    assert [f.get("name") or f.get("file_name") for f in files] == ["notes.txt"]
