"""Images made by the tests themselves, with Pillow."""

from __future__ import annotations

import io

from PIL import Image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture whose left half is red and right half blue: orientation shows."""
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    return image.convert(mode)


def jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(gradient(width, height), "JPEG", exif=exif, quality=90)
