"""S3 going away and coming back: clients get 503 with Retry-After in the
API's error format meanwhile, readiness says so, and the gateway recovers
by itself."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .process import GatewayProcess
from .seaweedfs import BUCKET, SeaweedFS


@pytest.fixture
def own_s3(tmp_path: Path, s3_server: SeaweedFS) -> Iterator[SeaweedFS]:
    """A SeaweedFS of this test's own, which it may stop and start."""
    server = SeaweedFS(tmp_path / "seaweedfs")
    server.start()
    yield server
    server.stop()


def wait_for(condition, seconds: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise TimeoutError("condition not met in time")


def test_outage_gives_503_and_recovers(own_s3: SeaweedFS) -> None:
    with GatewayProcess(f"s3://{BUCKET}/outage?addressing_style=path", own_s3.environment()) as gateway:
        session_id = httpx.post(f"{gateway.url}/api/sessions", json={"title": "outage"}).json()["id"]
        files = f"{gateway.url}/api/sessions/{session_id}/files"
        assert httpx.post(f"{files}/upload", files={"file": ("keep.txt", b"kept")}).status_code == 201

        own_s3.stop()
        for method, url in [("GET", files), ("GET", f"{files}/keep.txt"), ("POST", f"{gateway.url}/api/sessions")]:
            response = httpx.request(method, url, json={"title": "x"} if method == "POST" else None, timeout=60)
            assert response.status_code == 503, (method, url, response.text)
            assert response.headers["retry-after"].isdigit()
            assert response.json()["error"]["type"] == "internal_error"
        ready = httpx.get(f"{gateway.url}/readyz", timeout=60)
        # Nothing of the storage's error (its endpoint) goes to whoever asks.
        assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
        assert httpx.get(f"{gateway.url}/health").status_code == 200  # the process itself is fine
        metrics = httpx.get(f"{gateway.url}/metrics").text
        assert "gateway_storage_unavailable_total 3.0" in metrics

        own_s3.start()
        wait_for(lambda: httpx.get(f"{gateway.url}/readyz", timeout=60).status_code == 200)
        # SeaweedFS answers for buckets before its volume servers are back.
        wait_for(lambda: httpx.get(f"{files}/keep.txt", timeout=60).status_code == 200)
        assert httpx.get(f"{files}/keep.txt").content == b"kept"
        assert [f["name"] for f in httpx.get(files).json()] == ["keep.txt"]


def test_a_download_cut_by_an_outage_ends_at_once(own_s3: SeaweedFS) -> None:
    data = os.urandom(42 * 1024 * 1024)
    with GatewayProcess(f"s3://{BUCKET}/cut?addressing_style=path", own_s3.environment()) as gateway:
        session_id = httpx.post(f"{gateway.url}/api/sessions", json={"title": "cut"}).json()["id"]
        files = f"{gateway.url}/api/sessions/{session_id}/files"
        assert httpx.post(f"{files}/upload", files={"file": ("big.bin", data)}, timeout=120).status_code == 201
        received = 0
        with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{files}/big.bin", timeout=30) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes(1024 * 1024):
                received += len(chunk)
                if received >= 4 * 1024 * 1024 and own_s3.running:
                    own_s3.kill()  # a graceful stop would finish the GET in flight
                    stopped = time.monotonic()
        assert received < len(data)
        assert time.monotonic() - stopped < 20  # not the client's 30 s timeout
        output = gateway.output()
    assert "storage failed mid-download" in output and "Traceback" not in output
