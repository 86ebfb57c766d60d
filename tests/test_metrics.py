"""Prometheus metrics: by route template, with bytes, latency and uploads."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator

import httpx
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from .server import ThreadedGateway


def samples(server: ThreadedGateway, **headers: str) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(f"{server.url}/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_requests_bytes_and_latency_by_route(gateway: ThreadedGateway) -> None:
    session_id = httpx.post(f"{gateway.url}/api/sessions", json={"title": "m"}).json()["id"]
    files = f"{gateway.url}/api/sessions/{session_id}/files"
    data = b"x" * 300_000
    httpx.post(f"{files}/upload", files={"file": ("a.bin", data)})
    httpx.get(f"{files}/a.bin")
    httpx.get(f"{files}/missing.bin")
    httpx.get(f"{gateway.url}/nowhere")
    found = samples(gateway)
    file_route = "/api/sessions/{id}/files/{filename}"
    assert value(found, "gateway_requests_total", route="/api/sessions", method="POST", status="201") == 1
    assert value(found, "gateway_requests_total", route=file_route, method="GET", status="200") == 1
    assert value(found, "gateway_requests_total", route=file_route, method="GET", status="404") == 1
    assert value(found, "gateway_requests_total", route="unmatched", method="GET", status="404") == 1
    assert value(found, "gateway_sent_bytes_total", route=file_route, method="GET") >= len(data)
    upload_route = "/api/sessions/{id}/files/upload"
    assert value(found, "gateway_received_bytes_total", route=upload_route, method="POST") >= len(data)
    assert value(found, "gateway_request_duration_seconds_count", route=upload_route, method="POST") == 1
    assert value(found, "gateway_uploads_in_progress") == 0
    # No raw paths (ids, file names) ever become labels.
    assert not any(session_id in str(labels) for _, labels in found)


def test_uploads_in_progress(gateway: ThreadedGateway) -> None:
    session_id = httpx.post(f"{gateway.url}/api/sessions", json={"title": "m"}).json()["id"]
    release = threading.Event()

    def body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n'
        yield b"x" * 1000
        release.wait(timeout=30)
        yield b"\r\n--b--\r\n"

    def upload() -> None:
        httpx.post(
            f"{gateway.url}/api/sessions/{session_id}/files/upload",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            timeout=60,
        )

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and value(samples(gateway), "gateway_uploads_in_progress") != 1:
            time.sleep(0.05)
        assert value(samples(gateway), "gateway_uploads_in_progress") == 1
    finally:
        release.set()
        thread.join(timeout=30)
    assert value(samples(gateway), "gateway_uploads_in_progress") == 0


def test_metrics_need_a_key_when_keys_are_set(start_gateway: Callable[..., ThreadedGateway]) -> None:
    key = "metrics-key-0123456789"
    server = start_gateway(api_keys=(key,))
    denied = httpx.get(f"{server.url}/metrics")
    assert (denied.status_code, denied.headers["www-authenticate"]) == (401, "Bearer")
    for method in ("POST", "DELETE", "PUT"):  # the key first, then the method
        assert httpx.request(method, f"{server.url}/metrics").status_code == 401
    assert re.search(
        r"^gateway_requests_total",
        httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {key}"}).text,
        re.M,
    )


def test_processing_durations_and_queue(gateway: ThreadedGateway) -> None:
    folder_id = httpx.post(f"{gateway.url}/v1/folders/", json={"name": "m"}).json()["id"]
    upload = f"{gateway.url}/v1/folders/{folder_id}/upload"
    done = httpx.post(upload, files={"file": ("a.txt", b"words")}).json()["id"]
    failed = httpx.post(upload, files={"file": ("b.pdf", b"not a pdf")}).json()["id"]
    deadline = time.monotonic() + 30
    # Observed as each job ends, just after its last status is stored.
    while value(found := samples(gateway), "gateway_processing_seconds_count", status="error") < 1 or (
        value(found, "gateway_processing_seconds_count", status="completed") < 1
        or value(found, "gateway_processing_queued") > 0
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert value(found, "gateway_processing_seconds_count", status="completed") == 1
    assert value(found, "gateway_processing_seconds_count", status="error") == 1
    for file_id, status in ((done, "completed"), (failed, "error")):
        meta = httpx.get(f"{gateway.url}/v1/folders/{folder_id}/files/{file_id}").json()
        assert meta["processing_status"] == status
    route = "/v1/folders/{folder_id}/upload"
    assert value(found, "gateway_requests_total", route=route, method="POST", status="200") == 2


def test_thumbnail_durations_and_queue(gateway: ThreadedGateway) -> None:
    session_id = httpx.post(f"{gateway.url}/api/sessions", json={"title": "m"}).json()["id"]
    files = f"{gateway.url}/api/sessions/{session_id}/files"
    image = io.BytesIO()
    Image.new("RGB", (640, 480), "red").save(image, "PNG")
    httpx.post(f"{files}/upload", files={"file": ("a.png", image.getvalue())})
    for _ in range(2):  # made once, then served from the cache
        response = httpx.get(f"{files}/a.png", params={"thumb": "100"})
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    found = samples(gateway)
    assert value(found, "gateway_thumbnail_seconds_count") == 1
    assert value(found, "gateway_thumbnails_queued") == 0
