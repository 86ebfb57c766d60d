"""HTTP/1.1 over a bare socket, for tests that need what clients hide: a
request sent a byte at a time, a body that stops, ``100 Continue``, no
``Host``, a method no client sends."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def connect(port: int, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_response(sock: socket.socket) -> Response:
    """One response (its headers and a ``Content-Length`` body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if not (chunk := sock.recv(65536)):
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    response = _parse(data)
    while len(response.body) < int(response.headers.get("content-length", 0)):
        if not (chunk := sock.recv(65536)):
            raise ConnectionError("closed in the body")
        response.body += chunk
    return response


async def exchange(port: int | None, request: bytes, timeout: float = 10) -> Response:
    """Send ``request`` and read its response until the server closes, from
    a test on the server's own event loop (``aiohttp_client``, whose port is
    None until it starts). The request must end the connection: HTTP/1.0 or
    ``Connection: close``."""
    assert port is not None, "the server has not started"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return _parse(data)


def _parse(data: bytes) -> Response:
    """The status, headers and what of the body came with them."""
    if b"\r\n\r\n" not in data:
        raise ConnectionError(f"closed after {data!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return Response(int(status_line.split()[1]), headers, body)


def closed_by_server(sock: socket.socket, wait: float = 0.0) -> bool:
    """Whether the server closed ``sock`` (now, or within ``wait`` seconds);
    whatever it sent before is read and dropped."""
    deadline = time.monotonic() + wait
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True


def multipart_head(filename: str = "slow.bin", boundary: str = "b0undary") -> bytes:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n\r\n'.encode()


def multipart_tail(boundary: str = "b0undary") -> bytes:
    return f"\r\n--{boundary}--\r\n".encode()


def upload_head(path: str, length: int, boundary: str = "b0undary", extra: str = "") -> bytes:
    """The request line and headers of a multipart upload of ``length`` bytes."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n{extra}\r\n"
    ).encode()
