"""Slow clients (``gateway/server.py``), over real sockets with short
timeouts: silent and slowloris connections closed after the header timeout,
idle keep-alives after theirs, a stalled upload ended with 408 and nothing
stored (every backend), a slow upload that progresses left alone, and the
connection bound keeping ``/health`` reachable."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from backends import backend_from_url
from backends.s3 import S3Backend
from gateway.settings import Settings

from .rawhttp import closed_by_server, connect, multipart_head, multipart_tail, read_response, upload_head
from .seaweedfs import BUCKET
from .server import ThreadedGateway

#: Bounds on how long the server takes to answer and to cut.
pytestmark = pytest.mark.serial

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def gateway(**settings: object) -> ThreadedGateway:
    return ThreadedGateway(Settings(storage="memory://", **settings))  # type: ignore[arg-type]


def metric(server: ThreadedGateway, name: str, **labels: str) -> float:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    line = re.escape(f"{name}{{{selector}}}" if labels else name)
    found = re.search(rf"^{line} (\S+)$", httpx.get(f"{server.url}/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


def new_session(server: ThreadedGateway) -> str:
    return httpx.post(f"{server.url}/api/sessions", json={"title": "slow"}).json()["id"]


def test_silent_connections_are_closed_after_the_header_timeout() -> None:
    with gateway(header_timeout=1, keepalive_timeout=60) as server:
        opened = time.monotonic()
        socks = [connect(server.settings.port) for _ in range(50)]
        try:
            time.sleep(0.6)
            assert not any(closed_by_server(sock) for sock in socks), "closed before the header timeout"
            assert all(closed_by_server(sock, wait=opened + 3 - time.monotonic()) for sock in socks)
            assert time.monotonic() - opened < 3
            assert metric(server, "gateway_connections_cut_total", reason="header_timeout") == 50
            assert httpx.get(f"{server.url}/health").status_code == 200
        finally:
            for sock in socks:
                sock.close()


def test_slowloris_headers_are_cut_and_delay_no_one() -> None:
    """Headers at a byte every 0.2 s are closed 1.5 s after they began, while
    a client that sends its request at once is answered as quickly as ever."""
    with gateway(header_timeout=1.5, keepalive_timeout=60) as server, httpx.Client() as fresh:
        request = HEALTH[:-2] + b"X-Padding: " + b"a" * 100
        socks = [connect(server.settings.port) for _ in range(20)]
        started = time.monotonic()
        closed_at: dict[int, float] = {}
        sent, slowest = 0, 0.0
        try:
            while len(closed_at) < len(socks) and time.monotonic() - started < 5:
                for i, sock in enumerate(socks):
                    if i in closed_at:
                        continue
                    try:
                        sock.sendall(request[sent : sent + 1])
                    except ConnectionError:
                        closed_at[i] = time.monotonic() - started
                        continue
                    if closed_by_server(sock):
                        closed_at[i] = time.monotonic() - started
                sent += 1
                before = time.monotonic()
                assert fresh.get(f"{server.url}/health").status_code == 200
                slowest = max(slowest, time.monotonic() - before)
                time.sleep(max(0.0, 0.2 - (time.monotonic() - before)))
        finally:
            for sock in socks:
                sock.close()
        assert len(closed_at) == len(socks)
        assert min(closed_at.values()) >= 1.4 and max(closed_at.values()) <= 3.0, closed_at
        assert sent >= 7  # they kept sending all along
        assert slowest < 0.5
        assert metric(server, "gateway_connections_cut_total", reason="header_timeout") == 20


def test_idle_keep_alive_is_closed_after_the_keepalive_timeout() -> None:
    with gateway(header_timeout=30, keepalive_timeout=1) as server, connect(server.settings.port) as sock:
        for _ in range(2):  # kept alive while in use
            sock.sendall(HEALTH)
            assert read_response(sock).status == 200
            idle_since = time.monotonic()
            assert not closed_by_server(sock, wait=0.5)
        assert closed_by_server(sock, wait=3)
        assert 0.9 <= time.monotonic() - idle_since <= 2.5


async def _open_multipart_uploads(url: str) -> list[str]:
    s3 = backend_from_url(url)
    assert isinstance(s3, S3Backend)
    await s3.start()
    try:
        listed = await s3.client.list_multipart_uploads(Bucket=BUCKET, Prefix=s3.prefix)
        return [upload["Key"] for upload in listed.get("Uploads", [])]
    finally:
        await s3.close()


def test_a_stalled_upload_ends_with_408_and_nothing_stored(
    start_gateway: Callable[..., ThreadedGateway], backend_kind: str, backend_url: str, tmp_path: Path
) -> None:
    """9 MiB, then nothing: on S3 a multipart upload has begun by then."""
    server = start_gateway(body_timeout=1)
    session = new_session(server)
    sent = multipart_head() + os.urandom(9 * 1024 * 1024)
    path = f"/api/sessions/{session}/files/upload"
    with connect(server.settings.port) as sock:
        sock.sendall(upload_head(path, len(sent) + 1024 * 1024) + sent)
        stalled = time.monotonic()
        response = read_response(sock)
        assert time.monotonic() - stalled < 4
        assert response.status == 408
        error = response.json()["error"]  # type: ignore[index]
        assert error["code"] == 408 and "nothing was stored" in error["message"]
        assert response.headers["connection"] == "close"
        assert closed_by_server(sock, wait=2)
    assert httpx.get(f"{server.url}/api/sessions/{session}/files").json() == []
    assert metric(server, "gateway_uploads_in_progress") == 0
    assert metric(server, "gateway_connections_cut_total", reason="body_timeout") == 1
    assert metric(server, "gateway_requests_total", method="POST", route=path.replace(session, "{id}"), status="408")
    if backend_kind == "s3":
        assert asyncio.run(_open_multipart_uploads(backend_url)) == []
    if backend_kind == "local":
        assert list((tmp_path / "storage" / "tmp").iterdir()) == []


def test_a_stalled_folder_upload_is_408_in_the_folder_format() -> None:
    with gateway(body_timeout=1) as server:
        folder = httpx.post(f"{server.url}/v1/folders", json={"name": "slow"}).json()["id"]
        with connect(server.settings.port) as sock:
            head = upload_head(f"/v1/folders/{folder}/upload", 100_000)
            sock.sendall(head + multipart_head("slow.txt") + b"x" * 1000)
            response = read_response(sock)
        assert response.status == 408
        assert "nothing was stored" in response.json()["detail"]  # type: ignore[index]
        assert httpx.get(f"{server.url}/v1/folders/{folder}/files").json() == []


def test_a_slow_upload_that_progresses_is_not_cut() -> None:
    """A piece every 0.4 s, 3.2 s in all: over three body timeouts."""
    data = os.urandom(8 * 50_000)
    with gateway(body_timeout=1) as server:
        session = new_session(server)
        body = multipart_head("slow.bin") + data + multipart_tail()
        with connect(server.settings.port) as sock:
            sock.sendall(upload_head(f"/api/sessions/{session}/files/upload", len(body)))
            pieces = [body[i : i + 50_000] for i in range(0, len(body), 50_000)]
            for piece in pieces:
                time.sleep(0.4)
                sock.sendall(piece)
            assert read_response(sock).status == 201
        stored = httpx.get(f"{server.url}/api/sessions/{session}/files/slow.bin").content
        assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


def test_at_the_bound_waiting_connections_make_room_for_new_ones() -> None:
    """20 silent connections hold the bound; a client with a request is
    still served, and each connection past the bound closes an oldest one."""
    with gateway(max_connections=20, header_timeout=30) as server:
        socks = [connect(server.settings.port) for _ in range(20)]
        try:
            time.sleep(0.2)
            assert httpx.get(f"{server.url}/health").status_code == 200
            socks += [connect(server.settings.port) for _ in range(10)]
            time.sleep(0.5)
            closed = [closed_by_server(sock, wait=0.05) for sock in socks]
            assert 10 <= sum(closed) <= 11
            assert closed == sorted(closed, reverse=True), "the oldest make room"
            assert httpx.get(f"{server.url}/health").status_code == 200
            assert metric(server, "gateway_connections_cut_total", reason="over_limit") >= sum(closed)
        finally:
            for sock in socks:
                sock.close()


def test_at_the_bound_of_busy_connections_new_ones_are_refused() -> None:
    """20 uploads in progress hold the bound: a new connection is closed at
    once (nothing is waiting to make room), and served again once they end."""
    with gateway(max_connections=20, body_timeout=30) as server:
        session = new_session(server)
        path = f"/api/sessions/{session}/files/upload"
        uploads = [connect(server.settings.port) for _ in range(20)]
        try:
            for sock in uploads:
                sock.sendall(upload_head(path, 1_000_000) + multipart_head() + b"x" * 1000)
            # Time for every upload's head to be read, and for the session
            # create's connection to be seen closed: either one still
            # waiting would be cut in place of the new connection.
            time.sleep(2)
            with connect(server.settings.port) as refused:
                assert closed_by_server(refused, wait=1)
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{server.url}/health")
        finally:
            for sock in uploads:
                sock.close()
        time.sleep(0.5)
        assert httpx.get(f"{server.url}/health").status_code == 200
        assert metric(server, "gateway_connections_cut_total", reason="over_limit") >= 2
        assert httpx.get(f"{server.url}/api/sessions/{session}/files").json() == []
