"""A web page on another origin, in a real headless Chromium, as a frontend
of the gateway: CORS for fetch(), signed links for tags when API keys are
set, cached thumbnails that are never stale."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from PIL import Image

from ..server import ThreadedGateway
from ..thumbnails.media import encode, gradient, video
from .chrome import PageServer, chromium

KEY = "browser-key-0123456789"
#: The thumbnails the page shows (w100) of what it uploads.
MEDIA = {
    "photo.jpg": (encode(gradient(400, 200), "JPEG"), (100, 50)),
    "drawing.png": (encode(gradient(300, 300, "RGBA"), "PNG"), (100, 100)),
    "picture.webp": (encode(gradient(200, 400), "WEBP"), (100, 200)),
    "clip.mp4": (video(3.0), (100, 75)),
}


@pytest.fixture
def page(tmp_path: Path) -> Iterator[PageServer]:
    with PageServer(tmp_path / "site") as server:
        for name, (data, _) in MEDIA.items():
            (server.root / "media" / name).write_bytes(data)
        yield server


def thumbnail_requests(gateway: ThreadedGateway, headers: dict[str, str]) -> int:
    """GETs of session files answered so far (the page downloads only once)."""
    text = httpx.get(f"{gateway.url}/metrics", headers=headers).text
    route = r'route="/api/sessions/\{id\}/files/\{filename\}"'
    pattern = rf'gateway_requests_total\{{method="GET",{route},status="\d+"\}} (\S+)'
    return int(sum(float(count) for count in re.findall(pattern, text)))


def run(driver, url: str) -> dict:  # noqa: ANN001
    driver.get(url)
    deadline = time.monotonic() + 60
    while (result := driver.execute_script("return window.result")) is None:
        assert time.monotonic() < deadline, "the page did not finish in 60 s"
        time.sleep(0.1)
    assert "error" not in result, result["error"]
    return result


@pytest.mark.parametrize("keyed", [False, True], ids=["keyless", "api-keys"])
def test_a_page_on_another_origin(
    start_gateway: Callable[..., ThreadedGateway], page: PageServer, tmp_path: Path, keyed: bool
) -> None:
    keys = {"api_keys": (KEY,), "url_ttl": 86400} if keyed else {}
    gateway = start_gateway(cors_origins=(page.origin,), **keys)
    headers = {"Authorization": f"Bearer {KEY}"} if keyed else {}
    query = {"gateway": gateway.url, "media": ",".join(MEDIA), **({"key": KEY} if keyed else {})}
    with chromium(tmp_path / "profile") as driver:
        result = run(driver, f"{page.origin}/page.html?{urlencode(query)}")
        assert result["sizes"] == {name: list(size) for name, (_, size) in MEDIA.items()}
        assert result["hashes"] == {name: hashlib.sha256(data).hexdigest() for name, (data, _) in MEDIA.items()}
        etag, disposition, request_id = result["headers"]  # exposed to the page
        assert etag.startswith('"') and disposition.startswith("inline;") and request_id
        assert result["video"]["duration"] == pytest.approx(3.0, abs=0.2)
        assert result["video"]["time"] == pytest.approx(1.5, abs=0.01)
        assert result["video"]["width"] == 320
        assert result["letta"] == {"uploaded": "note.txt", "listed": ["note.txt"]}

        # A second view of the unchanged grid: no thumbnail is asked again.
        session = result["session"]
        view = f"{page.origin}/page.html?{urlencode({**query, 'session': session})}"
        before = thumbnail_requests(gateway, headers)
        again = run(driver, view)
        assert again["sizes"] == result["sizes"]
        assert thumbnail_requests(gateway, headers) == before

        # A re-upload: the listing hands out a new link, the page shows the new picture.
        replaced = httpx.post(
            f"{gateway.url}/api/sessions/{session}/files/upload",
            files={"file": ("photo.jpg", encode(gradient(200, 400), "JPEG"))},
            headers=headers,
        )
        assert replaced.status_code == 201
        after = run(driver, view)
        assert after["sizes"] == {**result["sizes"], "photo.jpg": [100, 200]}
        assert thumbnail_requests(gateway, headers) == before + 1

        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []


def test_tags_cannot_open_files_without_a_link(
    start_gateway: Callable[..., ThreadedGateway], page: PageServer, tmp_path: Path
) -> None:
    """The guard the signed links stand in for: with keys, a plain URL in an
    ``<img>`` shows nothing."""
    gateway = start_gateway(cors_origins=(page.origin,), api_keys=(KEY,))
    headers = {"Authorization": f"Bearer {KEY}"}
    session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "t"}, headers=headers).json()["id"]
    httpx.post(
        f"{gateway.url}/api/sessions/{session}/files/upload",
        files={"file": ("photo.jpg", MEDIA["photo.jpg"][0])},
        headers=headers,
    ).raise_for_status()
    plain = f"{gateway.url}/api/sessions/{session}/files/photo.jpg?thumb=w100"
    (page.root / "plain.html").write_text(
        f'<!doctype html><link rel="icon" href="data:,"><img src="{plain}" '
        'onload="window.result={loaded:true}" onerror="window.result={loaded:false}">'
    )
    with chromium(tmp_path / "profile") as driver:
        assert run(driver, f"{page.origin}/plain.html") == {"loaded": False}


def test_the_thumbnail_a_browser_gets_is_webp(gateway_with_image: tuple[str, dict[str, str]]) -> None:
    """Chromium's own ``Accept`` for images."""
    url, headers = gateway_with_image
    accept = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
    response = httpx.get(f"{url}&thumb=w100", headers={**headers, "Accept": accept})
    assert response.headers["content-type"] == "image/webp"
    assert Image.open(__import__("io").BytesIO(response.content)).format == "WEBP"


@pytest.fixture
def gateway_with_image(gateway: ThreadedGateway) -> tuple[str, dict[str, str]]:
    session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "t"}).json()["id"]
    uploaded = httpx.post(
        f"{gateway.url}/api/sessions/{session}/files/upload", files={"file": ("photo.jpg", MEDIA["photo.jpg"][0])}
    )
    return uploaded.json()["url"], {}
