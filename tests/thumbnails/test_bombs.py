"""Images made to cost: memory per generation bounded and given back, and
JPEG metadata that would keep a worker busy refused unread."""

from __future__ import annotations

import io
import struct
import threading
import time

import httpx
import pytest
from PIL import Image

from gateway.thumbnails.images import MAX_JPEG_METADATA, image_thumbnail
from gateway.thumbnails.spec import parse_thumb

from ..process import GatewayProcess
from .media import encode

#: A refusal is timed.
pytestmark = pytest.mark.serial


def memory(pid: int) -> dict[str, int]:
    """Resident and peak resident MiB of a process."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status.read().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) // 1024 for name in ("VmRSS", "VmHWM")}


def test_a_huge_rgba_png_in_four_sizes_at_once_stays_bounded() -> None:
    """0.2 MB of PNG, 7000 x 7000 RGBA: 196 MB decoded. Four sizes at once
    took 1,180 MiB, and kept it, before generations shared the bound."""
    picture = Image.new("RGBA", (7000, 7000), (255, 0, 0, 128))
    picture.paste((0, 0, 255, 255), (3500, 0, 7000, 7000))
    data = encode(picture, "PNG")
    del picture
    with GatewayProcess("memory://") as gateway:
        session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "bomb"}).json()["id"]
        files = f"{gateway.url}/api/sessions/{session}/files"
        assert httpx.post(f"{files}/upload", files={"file": ("big.png", data)}).status_code == 201
        with open(f"/proc/{gateway.pid}/clear_refs", "w") as refs:
            refs.write("5")  # the peak starts again from here
        before = memory(gateway.pid)
        sizes: dict[str, tuple[int, int]] = {}

        def get(spec: str) -> None:
            response = httpx.get(f"{files}/big.png?thumb={spec}", timeout=60)
            assert response.status_code == 200
            sizes[spec] = Image.open(io.BytesIO(response.content)).size

        threads = [threading.Thread(target=get, args=(spec,)) for spec in ("w100", "w200", "h300", "400")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        after = memory(gateway.pid)
    assert sizes == {"w100": (100, 100), "w200": (200, 200), "h300": (300, 300), "400": (400, 400)}
    assert after["VmHWM"] - before["VmRSS"] < 3 * 196 + 50  # one large decode at a time, three copies at most
    assert after["VmRSS"] - before["VmRSS"] < 100  # and given back


def test_jpeg_metadata_bomb_is_refused_unread() -> None:
    """1000 APP1 segments of 64 KB (65 MB): Pillow took 20 s to parse them."""
    small = encode(Image.new("RGB", (200, 100), "red"), "JPEG")
    segment = b"\xff\xe1" + struct.pack(">H", 65535) + b"Exif\x00\x00" + b"\x00" * (65535 - 8)
    bomb = small[:2] + segment * 1000 + small[2:]
    started = time.monotonic()
    try:
        image_thumbnail(io.BytesIO(bomb), parse_thumb("w50"), 50_000_000)
    except Exception as exc:  # noqa: BLE001
        assert f"over {MAX_JPEG_METADATA // (1024 * 1024)} MB" in str(exc)
    else:
        raise AssertionError("the bomb was decoded")
    assert time.monotonic() - started < 1
    # A JPEG with ordinary amounts of metadata is untouched by the check.
    app4 = b"\xff\xe4" + struct.pack(">H", 65535) + b"\x00" * (65535 - 2)
    image_thumbnail(io.BytesIO(small[:2] + app4 * 3 + small[2:]), parse_thumb("w50"), 50_000_000)


def test_endless_jpeg_fill_bytes_are_refused_at_once() -> None:
    started = time.monotonic()
    try:
        image_thumbnail(io.BytesIO(b"\xff\xd8" + b"\xff" * 20_000_000), parse_thumb("w50"), 50_000_000)
    except Exception as exc:  # noqa: BLE001
        assert "fill bytes" in str(exc)
    else:
        raise AssertionError("decoded")
    assert time.monotonic() - started < 0.5
