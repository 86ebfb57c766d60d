"""A full disk is a fault with a name: 507 with Retry-After in the family's
format, nothing partial kept, readiness reporting it, and recovery without a
restart once space returns. Local storage on a 20 MB tmpfs (mounting needs root)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings

from .server import ThreadedGateway


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(path: Path) -> None:
    with path.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError:
            pass


def full_count(server: ThreadedGateway) -> float:
    return float(re.search(r"^gateway_storage_full_total (\S+)$", httpx.get(f"{server.url}/metrics").text, re.M)[1])


def test_a_full_disk_is_507_and_recovers(disk: Path) -> None:
    storage = disk / "storage"
    with ThreadedGateway(Settings(storage=f"file://{storage}")) as server:
        url = server.url
        session = httpx.post(f"{url}/api/sessions", json={"title": "t"}).json()["id"]
        folder = httpx.post(f"{url}/v1/folders/", json={"name": "f"}).json()["id"]
        big = {"file": ("big.txt", b"x" * 30_000_000)}

        too_big = httpx.post(f"{url}/api/sessions/{session}/files/upload", files=big, timeout=60)
        assert too_big.status_code == 507
        assert too_big.headers["retry-after"].isdigit()
        assert too_big.json()["error"]["type"] == "internal_error"
        assert httpx.get(f"{url}/api/sessions/{session}/files").json() == []
        letta = httpx.post(f"{url}/v1/folders/{folder}/upload", files=big, timeout=60)
        assert letta.status_code == 507
        assert "full" in letta.json()["detail"]
        assert httpx.get(f"{url}/v1/folders/{folder}/files").json() == []
        assert list((storage / "tmp").iterdir()) == []  # nothing partial left

        fill(disk / "filler")
        assert httpx.post(f"{url}/api/sessions", json={"title": "t"}).status_code == 507
        assert httpx.post(f"{url}/v1/folders/", json={"name": "g"}).status_code == 507
        ready = httpx.get(f"{url}/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready", "storage": "full"})
        assert httpx.get(f"{url}/api/sessions/{session}").status_code == 200  # reads go on
        assert full_count(server) == 4

        (disk / "filler").unlink()
        assert httpx.post(f"{url}/api/sessions", json={"title": "t"}).status_code == 201
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
        small = httpx.post(f"{url}/api/sessions/{session}/files/upload", files={"file": ("a.txt", b"a")})
        assert small.status_code == 201
