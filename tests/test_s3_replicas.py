"""Several gateway processes over one bucket: stateless replicas, as on
Kubernetes. Races between them resolve in S3, not in one process's memory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .process import GatewayProcess
from .seaweedfs import SeaweedFS, s3_url


@pytest.fixture
def replicas(s3_server: SeaweedFS) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    storage = s3_url()
    with GatewayProcess(storage) as first, GatewayProcess(storage) as second:
        yield first, second


def test_one_replica_sees_what_the_other_did(replicas: tuple[GatewayProcess, GatewayProcess]) -> None:
    a, b = replicas
    session = httpx.post(f"{a.url}/api/sessions", json={"title": "shared"}).json()
    assert httpx.get(f"{b.url}/api/sessions/{session['id']}").json()["title"] == "shared"
    data = os.urandom(3 * 1024 * 1024)
    uploaded = httpx.post(f"{a.url}/api/sessions/{session['id']}/files/upload", files={"file": ("x.bin", data)})
    assert uploaded.status_code == 201
    assert [f["name"] for f in httpx.get(f"{b.url}/api/sessions/{session['id']}/files").json()] == ["x.bin"]
    assert httpx.get(f"{b.url}/api/sessions/{session['id']}/files/x.bin").content == data
    assert httpx.delete(f"{b.url}/api/sessions/{session['id']}/files/x.bin").status_code == 204
    assert httpx.get(f"{a.url}/api/sessions/{session['id']}/files/x.bin").status_code == 404
    assert httpx.delete(f"{b.url}/api/sessions/{session['id']}").status_code == 204
    assert httpx.get(f"{a.url}/api/sessions/{session['id']}").status_code == 404


def test_concurrent_uploads_of_one_name_end_consistent(replicas: tuple[GatewayProcess, GatewayProcess]) -> None:
    a, b = replicas
    session_id = httpx.post(f"{a.url}/api/sessions", json={"title": "race"}).json()["id"]
    # Multipart-sized bodies, each recognisable by its hash.
    bodies = [os.urandom(9 * 1024 * 1024) for _ in range(6)]

    def upload(index: int) -> int:
        server = (a, b)[index % 2]
        url = f"{server.url}/api/sessions/{session_id}/files/upload"
        return httpx.post(url, files={"file": ("same.bin", bodies[index])}, timeout=120).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(upload, range(6))) == [201] * 6

    final = {
        server.url: httpx.get(f"{server.url}/api/sessions/{session_id}/files/same.bin").content for server in (a, b)
    }
    assert final[a.url] == final[b.url]
    assert hashlib.sha256(final[a.url]).digest() in {hashlib.sha256(body).digest() for body in bodies}
    listed = httpx.get(f"{b.url}/api/sessions/{session_id}/files").json()
    assert [(f["name"], f["size"]) for f in listed] == [("same.bin", 9 * 1024 * 1024)]


@pytest.mark.parametrize("mode", ["suffix", "replace"])
def test_folder_uploads_of_one_name_through_both(replicas: tuple[GatewayProcess, GatewayProcess], mode: str) -> None:
    """Name claims hold across processes: 20 uploads at once, half through each."""
    a, b = replicas
    folder_id = httpx.post(f"{a.url}/v1/folders/", json={"name": "race"}).json()["id"]

    def upload(index: int) -> dict:
        server = (a, b)[index % 2]
        url = f"{server.url}/v1/folders/{folder_id}/upload?duplicate_handling={mode}"
        response = httpx.post(url, files={"file": ("same.txt", f"copy {index}".encode())}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        made = list(pool.map(upload, range(20)))
    listed = httpx.get(f"{b.url}/v1/folders/{folder_id}/files").json()
    if mode == "suffix":
        expected = {"same.txt"} | {f"same_({n}).txt" for n in range(1, 20)}
        assert sorted(f["file_name"] for f in listed) == sorted(expected)
    else:
        assert [f["file_name"] for f in listed] == ["same.txt"]
        assert listed[0]["id"] in {m["id"] for m in made}
