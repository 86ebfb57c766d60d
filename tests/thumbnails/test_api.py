"""Thumbnails through the official client, on every backend: sizes, caching,
invalidation, conditional requests and every error case."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from mix_python_sdk import Mix
from PIL import Image

from ..mix_client import client, error_of, upload
from ..server import ThreadedGateway
from .media import SECOND_COLOURS, encode, gradient, jpeg_with_orientation, video
from .test_videos import colour_of


def generated(server: ThreadedGateway) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    line = next(line for line in metrics.splitlines() if line.startswith("gateway_thumbnail_seconds_count"))
    return float(line.split()[-1])


def test_thumbnail_is_cached_and_revalidates(gateway: ThreadedGateway, mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "photo.jpg", jpeg_with_orientation(800, 400, 6))  # shown 400 wide, 800 high
    first = mix.files.get_session_file(id=session_id, filename="photo.jpg", thumb="w100", time=1.0)
    assert first.headers["content-type"] == "image/jpeg"
    assert first.headers["content-disposition"] == "inline; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"
    assert Image.open(io.BytesIO(first.read())).size == (100, 200)
    assert generated(gateway) == 1
    # Answered from memory while it was being stored; once stored, it is
    # served from the cache under the same ETag.
    deadline = time.monotonic() + 10
    while "gateway_thumbnails_queued 0.0" not in httpx.get(f"{gateway.url}/metrics").text:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    second = mix.files.get_session_file(id=session_id, filename="photo.jpg", thumb="w100")
    assert second.read() == first.read()
    assert generated(gateway) == 1  # served from the cache: no decoding
    etag = first.headers["etag"]
    assert second.headers["etag"] == etag
    url = f"{gateway.url}/api/sessions/{session_id}/files/photo.jpg?thumb=w100"
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert Image.open(io.BytesIO(httpx.get(url.replace("w100", "h50")).content)).size == (25, 50)
    assert generated(gateway) == 2


def test_reupload_invalidates(gateway: ThreadedGateway, mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "pic.png", encode(gradient(400, 400), "PNG"))
    assert Image.open(
        io.BytesIO(mix.files.get_session_file(id=session_id, filename="pic.png", thumb="100").read())
    ).size == (100, 100)
    upload(mix, session_id, "pic.png", encode(gradient(400, 200), "PNG"))
    again = mix.files.get_session_file(id=session_id, filename="pic.png", thumb="100")
    assert Image.open(io.BytesIO(again.read())).size == (100, 50)
    mix.files.delete_session_file(id=session_id, filename="pic.png")
    assert error_of(lambda: mix.files.get_session_file(id=session_id, filename="pic.png", thumb="100"))[:2] == (
        404,
        "not_found",
    )


def test_concurrent_requests_make_one_thumbnail(gateway: ThreadedGateway, mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "big.jpg", encode(gradient(3000, 2000), "JPEG"))
    url = f"{gateway.url}/api/sessions/{session_id}/files/big.jpg?thumb=w200"
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: httpx.get(url, timeout=60), range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert generated(gateway) == 1


@pytest.mark.parametrize(
    ("name", "data", "query", "message"),
    [
        ("a.jpg", None, {"thumb": "w10"}, "Invalid thumb"),
        ("a.jpg", None, {"thumb": "big"}, "Invalid thumb"),
        ("a.jpg", None, {"thumb": "100", "time": -1.0}, "Invalid time"),
        ("notes.txt", b"hello", {"thumb": "100"}, "thumbnails are made of images and videos"),
        ("clip.mp4", b"\x00" * 100, {"thumb": "100"}, "Corrupt or unreadable video"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really", {"thumb": "100"}, "Corrupt or truncated"),
        ("fake.png", b"plain text", {"thumb": "100"}, "supported format"),
    ],
)
def test_thumbnail_errors(mix: Mix, session_id: str, name: str, data: bytes | None, query: dict, message: str) -> None:
    upload(mix, session_id, name, data if data is not None else encode(gradient(64, 64), "JPEG"))
    code, kind, text = error_of(lambda: mix.files.get_session_file(id=session_id, filename=name, **query))
    assert (code, kind) == (400, "validation_error")
    assert message in text


def test_pixel_limit(start_gateway: Callable[..., ThreadedGateway]) -> None:
    server = start_gateway(max_image_pixels=10_000)
    mix = client(server)
    session_id = mix.sessions.create(browser_mode="local-browser-service", title="limit").id
    upload(mix, session_id, "huge.png", encode(Image.new("L", (200, 200)), "PNG"))
    code, kind, text = error_of(lambda: mix.files.get_session_file(id=session_id, filename="huge.png", thumb="100"))
    assert (code, kind) == (400, "validation_error")
    assert "40000 pixels; the limit is 10000" in text


def test_past_the_time_limit_a_503_then_the_thumbnail_from_the_cache(
    start_gateway: Callable[..., ThreadedGateway],
) -> None:
    server = start_gateway(thumbnail_timeout=0.001)
    mix = client(server)
    session_id = mix.sessions.create(browser_mode="local-browser-service", title="slow").id
    upload(mix, session_id, "big.jpg", encode(gradient(3000, 2000), "JPEG"))
    url = f"{server.url}/api/sessions/{session_id}/files/big.jpg?thumb=w200"
    slow = httpx.get(url)
    assert (slow.status_code, slow.headers["retry-after"]) == (503, "5")
    assert slow.json()["error"]["message"] == "Thumbnail generation took too long; try again"
    deadline = time.monotonic() + 10  # it is made and stored meanwhile
    while "gateway_thumbnails_queued 0.0" not in httpx.get(f"{server.url}/metrics").text:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    made = httpx.get(url)
    assert made.status_code == 200
    assert Image.open(io.BytesIO(made.content)).size == (200, 133)
    assert generated(server) == 1


def test_missing_file(mix: Mix, session_id: str) -> None:
    code, kind, text = error_of(lambda: mix.files.get_session_file(id=session_id, filename="none.jpg", thumb="100"))
    assert (code, kind, text) == (404, "not_found", f"File 'none.jpg' not found in session '{session_id}'")


def test_a_missing_session_is_the_answer_before_any_other(mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "a.jpg", encode(gradient(64, 64), "JPEG"))
    mix.sessions.delete(id=session_id)
    for name, thumb in [("a.jpg", "100"), ("none.jpg", "100"), ("a.jpg", "bad"), ("a.txt", "100")]:
        code, kind, text = error_of(
            lambda n=name, t=thumb: mix.files.get_session_file(id=session_id, filename=n, thumb=t)
        )
        assert (code, kind, text) == (404, "not_found", f"Session with ID '{session_id}' not found")


def test_video_frames_by_time(gateway: ThreadedGateway, mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "clip.mp4", video(3.0))
    for at, second in [(0.0, 0), (1.5, 1), (2.5, 2), (1.5, 1)]:
        response = mix.files.get_session_file(id=session_id, filename="clip.mp4", thumb="w100", time=at)
        image = Image.open(io.BytesIO(response.read()))
        assert image.size == (100, 75)
        assert colour_of(image) == SECOND_COLOURS[second]
    assert generated(gateway) == 3  # 1.5 s the second time came from the cache
    default = mix.files.get_session_file(id=session_id, filename="clip.mp4", thumb="w100")
    assert colour_of(Image.open(io.BytesIO(default.read()))) == SECOND_COLOURS[1]  # time defaults to 1.0


CHROMIUM_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def test_webp_for_clients_that_accept_it(gateway: ThreadedGateway, mix: Mix, session_id: str) -> None:
    url = upload(mix, session_id, "photo.jpg", encode(gradient(400, 200), "JPEG")).url
    jpeg = httpx.get(f"{url}&thumb=w100")  # as the Mix client: no image Accept
    webp = httpx.get(f"{url}&thumb=w100", headers={"Accept": CHROMIUM_ACCEPT})
    refused = httpx.get(f"{url}&thumb=w100", headers={"Accept": "image/webp;q=0, */*"})
    assert [r.headers["content-type"] for r in (jpeg, webp, refused)] == ["image/jpeg", "image/webp", "image/jpeg"]
    assert [Image.open(io.BytesIO(r.content)).format for r in (jpeg, webp)] == ["JPEG", "WEBP"]
    assert Image.open(io.BytesIO(webp.content)).size == (100, 50)
    assert all(r.headers["vary"] == "Accept" for r in (jpeg, webp))
    assert webp.headers["content-disposition"].startswith('inline; filename="photo.webp"')
    assert jpeg.headers["etag"] != webp.headers["etag"]  # two cache entries
    assert httpx.get(f"{url}&thumb=w100", headers={"Accept": CHROMIUM_ACCEPT}).content == webp.content
    assert generated(gateway) == 2


def test_thumbnails_carry_no_metadata_of_the_source(mix: Mix, session_id: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010E] = "secret description"
    source = encode(gradient(400, 200), "JPEG", exif=exif, comment=b"secret comment", icc_profile=b"\0" * 128)
    url = upload(mix, session_id, "photo.jpg", source).url
    for accept in ["*/*", CHROMIUM_ACCEPT]:
        thumbnail = httpx.get(f"{url}&thumb=w100", headers={"Accept": accept}).content
        image = Image.open(io.BytesIO(thumbnail))
        assert b"secret" not in thumbnail
        assert not {"exif", "comment", "icc_profile", "xmp"} & set(image.info)


def test_links_naming_the_version_are_cached_for_long(mix: Mix, session_id: str) -> None:
    url = upload(mix, session_id, "photo.png", encode(gradient(64, 64), "PNG")).url
    plain = url.split("?")[0]
    assert httpx.get(f"{url}&thumb=32").headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(url).headers["cache-control"] == "public, max-age=31536000, immutable"
    assert httpx.get(f"{plain}?thumb=32").headers["cache-control"] == "no-cache"
    assert httpx.get(plain).headers["cache-control"] == "no-cache"
    new = upload(mix, session_id, "photo.png", encode(gradient(32, 64), "PNG")).url
    assert new != url
    # The old link now gets the new file, which must not be kept as the old one.
    stale = httpx.get(f"{url}&thumb=32")
    assert stale.headers["cache-control"] == "no-cache"
    assert Image.open(io.BytesIO(stale.content)).size == (16, 32)
    assert httpx.get(url).headers["cache-control"] == "no-cache"
