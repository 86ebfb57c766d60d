"""A client that drops a download (a cut curl, a browser dropping a video's
``bytes=0-`` request) is no server fault: logged and counted as 499, never
as a 500, and the access log counts the body bytes really sent."""

from __future__ import annotations

import json
import re
import socket
import struct
import time
from pathlib import Path

import httpx
import pytest

from .process import GatewayProcess

SIZE = 32 * 1024 * 1024


def access_entries(gateway: GatewayProcess) -> list[dict]:
    return [json.loads(line) for line in gateway.output().splitlines() if line.startswith("{")]


def cut_download(gateway: GatewayProcess, path: str) -> None:
    """Ask for the whole file from byte 0, read 1 MiB of it, then reset."""
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-\r\n\r\n".encode())
        received = 0
        while received < 1024 * 1024:
            received += len(sock.recv(65536))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize("storage", ["memory", "local"])
def test_a_dropped_download_is_a_499_not_a_500(tmp_path: Path, storage: str) -> None:
    url = "memory://" if storage == "memory" else f"file://{tmp_path}"  # local: sendfile
    with GatewayProcess(url) as gateway:
        session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "t"}).json()["id"]
        path = f"/api/sessions/{session}/files/big.bin"
        files = {"file": ("big.bin", b"\0" * SIZE)}
        assert httpx.post(f"{gateway.url}/api/sessions/{session}/files/upload", files=files).status_code == 201
        cut_download(gateway, path)
        assert len(httpx.get(f"{gateway.url}{path}", timeout=60).content) == SIZE
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len([e for e in access_entries(gateway) if e["path"] == path]) < 2:
            time.sleep(0.05)
        metrics = httpx.get(f"{gateway.url}/metrics").text
        output = gateway.output()
    cut, whole = [json.loads(line) for line in output.splitlines() if line.startswith("{") and path in line]
    assert (cut["status"], whole["status"]) == (499, 200)
    assert 0 <= cut["bytes_out"] < SIZE
    assert whole["bytes_out"] == SIZE
    assert "Traceback" not in output and "unhandled" not in output.lower()
    route = r'route="/api/sessions/\{id\}/files/\{filename\}"'
    statuses = re.findall(rf'gateway_requests_total\{{method="GET",{route},status="(\d+)"\}} 1\.0', metrics)
    assert sorted(statuses) == ["200", "499"]


def test_a_client_gone_before_the_headers_is_a_499_too() -> None:
    """The client leaves while its thumbnail is being made (half a second
    for a 16 MP PNG): the answer's headers find no one to go to."""
    from PIL import Image

    from .thumbnails.media import encode

    picture = encode(Image.effect_noise((4000, 4000), 60).convert("RGB"), "PNG")
    with GatewayProcess("memory://") as gateway:
        session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "t"}).json()["id"]
        files = {"file": ("big.png", picture)}
        assert httpx.post(f"{gateway.url}/api/sessions/{session}/files/upload", files=files).status_code == 201
        path = f"/api/sessions/{session}/files/big.png?thumb=w100"
        with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            time.sleep(0.05)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        route = r'route="/api/sessions/\{id\}/files/\{filename\}"'
        deadline = time.monotonic() + 20
        statuses: list[str] = []
        while time.monotonic() < deadline and not statuses:
            metrics = httpx.get(f"{gateway.url}/metrics").text
            statuses = re.findall(rf'gateway_requests_total\{{method="GET",{route},status="(\d+)"\}}', metrics)
            time.sleep(0.1)
        output = gateway.output()
    assert statuses == ["499"]
    assert "Traceback" not in output and "unhandled" not in output.lower()
