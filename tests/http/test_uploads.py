"""Streaming uploads: malformed bodies, the size limit while streaming, and
interrupted transfers never leave anything behind."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from ..server import ThreadedGateway

LIMIT = 1024 * 1024


@pytest.fixture
def server(start_gateway: Callable[..., ThreadedGateway]) -> ThreadedGateway:
    return start_gateway(max_upload_bytes=LIMIT)


@pytest.fixture
def files_url(server: ThreadedGateway) -> str:
    session = httpx.post(f"{server.url}/api/sessions", json={"title": "up"}).json()
    return f"{server.url}/api/sessions/{session['id']}/files"


def assert_error(response: httpx.Response, status: int, kind: str, text: str = "") -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (status, kind)
    assert text in error["message"]


def multipart(parts: list[tuple[str, str]], boundary: str = "b0undary") -> bytes:
    body = b""
    for disposition, content in parts:
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{content}\r\n".encode()
    return body + f"--{boundary}--\r\n".encode()


MULTIPART = {"Content-Type": "multipart/form-data; boundary=b0undary"}


def test_other_fields_before_the_file_are_skipped(files_url: str) -> None:
    body = multipart([('form-data; name="note"', "hi"), ('form-data; name="file"; filename="a.txt"', "content")])
    response = httpx.post(f"{files_url}/upload", content=body, headers=MULTIPART)
    assert response.status_code == 201
    assert httpx.get(f"{files_url}/a.txt").content == b"content"


@pytest.mark.parametrize(
    ("body", "headers", "text"),
    [
        (b'{"file": 1}', {"Content-Type": "application/json"}, "multipart/form-data"),
        (multipart([('form-data; name="other"; filename="a.txt"', "x")]), MULTIPART, "Missing multipart field 'file'"),
        (multipart([('form-data; name="file"', "x")]), MULTIPART, "no filename"),
        (multipart([('form-data; name="file"; filename=""', "x")]), MULTIPART, ""),
        (b"garbage without boundaries", MULTIPART, ""),
        (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nno end', MULTIPART, ""),
        (
            multipart([('form-data; name="pad"', "x" * 70_000), ('form-data; name="file"; filename="a"', "x")]),
            MULTIPART,
            "",
        ),
    ],
)
def test_malformed_uploads_are_400(files_url: str, body: bytes, headers: dict, text: str) -> None:
    response = httpx.post(f"{files_url}/upload", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] in ("bad_request", "validation_error")
    assert text in response.json()["error"]["message"]
    assert httpx.get(files_url).json() == []


def test_chunked_upload_over_the_limit_is_413_and_stores_nothing(files_url: str) -> None:
    def body() -> Iterator[bytes]:
        yield b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
        for _ in range(LIMIT // 65536 + 2):
            yield b"x" * 65536
        yield b"\r\n--b0undary--\r\n"

    response = httpx.post(f"{files_url}/upload", content=body(), headers=MULTIPART)
    assert_error(response, 413, "bad_request", str(LIMIT))
    assert httpx.get(files_url).json() == []


def test_declared_length_over_the_limit_is_refused_before_reading(files_url: str) -> None:
    response = httpx.post(f"{files_url}/upload", files={"file": ("big.bin", b"x" * (LIMIT + 100_000))})
    assert_error(response, 413, "bad_request")
    assert httpx.get(files_url).json() == []


def test_interrupted_upload_leaves_nothing(server: ThreadedGateway, files_url: str) -> None:
    path = files_url.removeprefix(server.url)
    head = (
        f"POST {path}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b0undary\r\n"
        f"Content-Length: {LIMIT}\r\n\r\n"
        '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n'
    ).encode()
    with socket.create_connection(("127.0.0.1", server.settings.port)) as sock:
        sock.sendall(head + b"y" * 300_000)
        time.sleep(0.2)
    # The server notices the disconnect and aborts the put.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and httpx.get(files_url).json() != []:
        time.sleep(0.05)
    assert httpx.get(files_url).json() == []
    assert httpx.get(f"{files_url}/cut.bin").status_code == 404


# Refused by name before anything is stored, alike on every backend.
@pytest.mark.parametrize("backend_kind", ["memory"])
@pytest.mark.parametrize("raw", ['"/abs.txt"', '"//x.txt"', '"\\\\evil.txt"', '"/"'])
def test_names_with_leading_separators_are_refused_not_rewritten(files_url: str, raw: str) -> None:
    """aiohttp strips them from the parameter; the name as sent is refused."""
    body = f'--b0undary\r\nContent-Disposition: form-data; name="file"; filename={raw}\r\n\r\nx\r\n--b0undary--\r\n'
    response = httpx.post(f"{files_url}/upload", content=body.encode(), headers=MULTIPART)
    assert response.status_code == 400, response.text
    assert httpx.get(files_url).json() == []
