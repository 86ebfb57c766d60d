"""Image thumbnails from images the tests make: every format, orientation
and mode, and the inputs that must be refused."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from gateway.thumbnails.errors import MediaError
from gateway.thumbnails.images import image_thumbnail
from gateway.thumbnails.spec import parse_thumb

from .media import encode, gradient, jpeg_with_orientation

LIMIT = 50_000_000


def thumb(data: bytes, spec: str = "w100", limit: int = LIMIT) -> Image.Image:
    out = image_thumbnail(io.BytesIO(data), parse_thumb(spec), limit)
    image = Image.open(io.BytesIO(out))
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    return image


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [
        ("JPEG", "RGB"),
        ("PNG", "RGB"),
        ("GIF", "P"),
        ("WEBP", "RGB"),
        ("BMP", "RGB"),
        ("TIFF", "RGB"),
        ("JPEG", "CMYK"),
        ("JPEG", "L"),
    ],
)
def test_formats_and_modes(fmt: str, mode: str) -> None:
    image = thumb(encode(gradient(400, 300, mode), fmt))
    assert image.size == (100, 75)


# Where the red (left) half of a 400x200 picture ends up after orientation.
@pytest.mark.parametrize(
    ("orientation", "size", "red_at"),
    [
        (1, (100, 50), (5, 25)),
        (2, (100, 50), (95, 25)),
        (3, (100, 50), (95, 25)),
        (4, (100, 50), (5, 25)),
        (5, (100, 200), (50, 5)),
        (6, (100, 200), (50, 5)),
        (7, (100, 200), (50, 195)),
        (8, (100, 200), (50, 195)),
    ],
)
def test_exif_orientation(orientation: int, size: tuple[int, int], red_at: tuple[int, int]) -> None:
    image = thumb(jpeg_with_orientation(400, 200, orientation))
    assert image.size == size
    red, green, blue = image.getpixel(red_at)
    assert red > 200 and blue < 60


def test_transparency_is_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    rgba.paste((0, 128, 0, 255), (0, 0, 100, 200))
    image = thumb(encode(rgba, "PNG"), "100")
    assert min(image.getpixel((90, 50))) > 240  # transparent: white
    assert image.getpixel((10, 50))[1] > 100  # opaque green stays


def test_palette_transparency_is_flattened() -> None:
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (0, 0, 32, 64))
    image = thumb(encode(palette, "GIF", transparency=0), "w32")
    assert min(image.getpixel((28, 10))) > 240
    assert image.getpixel((2, 10))[0] > 200


def test_sixteen_bit_png() -> None:
    row = struct.pack("<300H", *([60000] * 150 + [1000] * 150))  # bright left, dark right
    grey = Image.frombytes("I;16", (300, 100), row * 100)
    image = thumb(encode(grey, "PNG"), "w60")
    assert image.size == (60, 20)
    assert image.getpixel((5, 10))[0] > 200 and image.getpixel((55, 10))[0] < 30


def test_first_gif_frame() -> None:
    frames = [Image.new("RGB", (80, 80), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert thumb(data, "40").getpixel((20, 20))[0] > 200


def test_large_jpeg_is_shrunk_on_load() -> None:
    data = encode(gradient(4000, 3000), "JPEG")
    assert thumb(data, "w200").size == (200, 150)


def test_pixel_limit_is_checked_before_decoding() -> None:
    data = encode(Image.new("L", (3000, 3000)), "PNG")
    with pytest.raises(MediaError, match="9000000 pixels; the limit is 1000000"):
        image_thumbnail(io.BytesIO(data), parse_thumb("100"), 1_000_000)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", encode(gradient(400, 300), "JPEG")[:600], b"\x89PNG\r\n\x1a\n" + b"\x00" * 100],
)
def test_corrupt_or_truncated_images(data: bytes) -> None:
    with pytest.raises(MediaError):
        image_thumbnail(io.BytesIO(data), parse_thumb("100"), LIMIT)


def test_other_formats_are_refused_unread() -> None:
    with pytest.raises(MediaError, match="supported format"):
        image_thumbnail(io.BytesIO(encode(gradient(50, 50), "PPM")), parse_thumb("100"), LIMIT)
