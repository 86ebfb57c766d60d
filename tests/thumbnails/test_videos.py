"""Video thumbnails from videos the tests make: the exact frame at a time,
the last one past the end, rotation, and broken files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gateway.thumbnails.errors import MediaError
from gateway.thumbnails.spec import parse_thumb
from gateway.thumbnails.videos import video_thumbnail

from .media import SECOND_COLOURS, video

LIMIT = 50_000_000


def frame(data: bytes, at: float, spec: str = "w160", limit: int = LIMIT, **options: int) -> Image.Image:
    return Image.open(io.BytesIO(video_thumbnail(io.BytesIO(data), parse_thumb(spec), at, limit, **options)))


def colour_of(image: Image.Image) -> tuple[int, int, int]:
    """The nearest of the test colours at the image's centre."""
    pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    return min(SECOND_COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(c, pixel, strict=True)))


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return video(3.0)


@pytest.mark.parametrize(("at", "second"), [(0.0, 0), (1.0, 1), (1.5, 1), (2.2, 2), (2.95, 2), (100.0, 2)])
def test_the_frame_shown_at_a_time(mp4: bytes, at: float, second: int) -> None:
    # One keyframe every 2.5 s: 1.5 s is mid-GOP and must not give the keyframe's red.
    image = frame(mp4, at)
    assert image.size == (160, 120)
    assert colour_of(image) == SECOND_COLOURS[second]


def test_vp9_webm() -> None:
    image = frame(video(2.0, fmt="webm", codec="libvpx-vp9"), 1.5, "100")
    assert image.size == (100, 75)
    assert colour_of(image) == SECOND_COLOURS[1]


def test_video_shorter_than_a_second() -> None:
    image = frame(video(0.4), 1.0)  # the default time is past its end
    assert colour_of(image) == SECOND_COLOURS[0]


def test_rotation_is_applied() -> None:
    image = frame(video(1.0, rotation=90), 0.5, "w120")
    assert image.size == (120, 160)  # 320x240 turned a quarter: portrait
    # The white left edge, turned counter-clockwise, is now at the bottom.
    assert min(image.getpixel((60, 155))) > 200
    assert min(image.getpixel((60, 5))) < 100


def test_pixel_limit() -> None:
    with pytest.raises(MediaError, match="76800 pixels; the limit is 1000"):
        frame(video(0.2), 0.0, limit=1000)


def test_decoding_forward_is_bounded(mp4: bytes) -> None:
    # Keyframes at 0 s and 2.5 s: 1.5 s lies 15 frames after one, 2.7 s two.
    ten_frames = 10 * 320 * 240
    assert colour_of(frame(mp4, 0.5, decode_pixels=ten_frames)) == SECOND_COLOURS[0]
    assert colour_of(frame(mp4, 2.7, decode_pixels=ten_frames)) == SECOND_COLOURS[2]
    with pytest.raises(MediaError, match="The frame at 1.5 s lies more than 10 frames after the keyframe before it"):
        frame(mp4, 1.5, decode_pixels=ten_frames)
    assert colour_of(frame(mp4, 1.5)) == SECOND_COLOURS[1]


@pytest.mark.parametrize("data", [b"", b"\x00" * 1000, b"RIFF....AVI garbage"])
def test_corrupt_videos(data: bytes) -> None:
    with pytest.raises(MediaError):
        frame(data, 1.0)


def test_truncated_video(mp4: bytes) -> None:
    with pytest.raises(MediaError):
        frame(mp4[: len(mp4) // 3], 1.0)
