"""The gateway as users run it: JSON access logs and graceful shutdown."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from .process import GatewayProcess


def access_entries(gateway: GatewayProcess) -> list[dict]:
    return [json.loads(line) for line in gateway.output().splitlines() if line.startswith("{")]


def test_one_json_object_per_request(tmp_path: Path) -> None:
    env = {"GATEWAY_TRUSTED_PROXIES": "127.0.0.1"}
    with GatewayProcess(f"file://{tmp_path}", env) as gateway:
        body = b'{"title": "logged"}'
        headers = {"Content-Type": "application/json"}
        session = httpx.post(f"{gateway.url}/api/sessions", content=body, headers=headers).json()
        httpx.get(
            f"{gateway.url}/api/sessions/{session['id']}/files",
            headers={"X-Request-ID": "req-42", "X-Forwarded-For": "203.0.113.5"},
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(access_entries(gateway)) < 3:
            time.sleep(0.05)
        entries = access_entries(gateway)
    listed = next(e for e in entries if e["request_id"] == "req-42")
    assert listed["method"] == "GET"
    assert listed["route"] == "/api/sessions/{id}/files"
    assert listed["path"] == f"/api/sessions/{session['id']}/files"
    assert listed["status"] == 200
    assert listed["peer"] == "203.0.113.5"
    assert listed["bytes_out"] > 0 and listed["duration_ms"] >= 0
    assert listed["time"].endswith("+00:00")
    created = next(e for e in entries if e["method"] == "POST")
    assert (created["status"], created["route"], created["peer"]) == (201, "/api/sessions", "127.0.0.1")
    assert created["bytes_in"] == len(body)


def test_sigterm_drains_and_lets_an_upload_finish(tmp_path: Path) -> None:
    env = {"GATEWAY_DRAIN_SECONDS": "1.5", "GATEWAY_SHUTDOWN_GRACE": "20"}
    storage = f"file://{tmp_path}"
    body = [bytes([i]) * 65536 for i in range(40)]

    def slow() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n'
        for chunk in body:
            time.sleep(0.08)  # about 3 s in all: the SIGTERM lands midway
            yield chunk
        yield b"\r\n--b--\r\n"

    with GatewayProcess(storage, env) as gateway:
        session_id = httpx.post(f"{gateway.url}/api/sessions", json={"title": "t"}).json()["id"]
        result: dict[str, httpx.Response] = {}
        upload = threading.Thread(
            target=lambda: result.update(
                response=httpx.post(
                    f"{gateway.url}/api/sessions/{session_id}/files/upload",
                    content=slow(),
                    headers={"Content-Type": "multipart/form-data; boundary=b"},
                    timeout=60,
                )
            )
        )
        upload.start()
        time.sleep(0.5)
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        ready = httpx.get(f"{gateway.url}/readyz")
        assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
        upload.join(timeout=60)
        assert "response" in result, gateway.output()
        assert result["response"].status_code == 201
        assert gateway.process.wait(timeout=30) == 0

    with GatewayProcess(storage) as again:
        data = httpx.get(f"{again.url}/api/sessions/{session_id}/files/slow.bin").content
    assert data == b"".join(body)


def test_requests_refused_before_routing_are_logged_without_a_traceback() -> None:
    with GatewayProcess("memory://") as gateway:
        for request in [b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n", b"NOT HTTP\r\n\r\n"]:
            with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
                sock.sendall(request)
                assert sock.recv(100).startswith(b"HTTP/1.0 400")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len([e for e in access_entries(gateway) if e["status"] == 400]) < 2:
            time.sleep(0.05)
        output = gateway.output()
    refused = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"status":400' in line]
    assert len(refused) == 2 and all(entry["route"] is None for entry in refused)
    assert "Traceback" not in output and " ERROR " not in output
