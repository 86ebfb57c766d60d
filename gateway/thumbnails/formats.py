"""What a thumbnail is encoded as: WebP for clients that list it in
``Accept`` (browsers do), JPEG for everyone else (the Mix client sends no
image ``Accept`` and keeps getting JPEG).

WebP at quality 80 is 24-29% smaller than our JPEG at 85 for equal or better
PSNR. AVIF is smaller still but not offered: its encodes took 52-304 ms
against 6-28 ms for WebP here (``bench/thumbnails.py`` prints both), more
than the whole thumbnail is allowed to cost.

Thumbnails carry nothing of the source but its pixels: no EXIF (location),
comment, XMP or ICC profile.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..http.accept import weights


@dataclass(frozen=True)
class Output:
    pillow: str
    media_type: str
    extension: str
    options: dict[str, Any] = field(default_factory=dict)

    def encode(self, image: Image.Image) -> bytes:
        image.info = {}  # Pillow writes a source's JPEG comment back unless told not to
        out = io.BytesIO()
        image.save(out, self.pillow, **self.options)
        return out.getvalue()


JPEG = Output("JPEG", "image/jpeg", ".jpg", {"quality": 85})
WEBP = Output("WEBP", "image/webp", ".webp", {"quality": 80, "method": 4})


def negotiate(accept: str | None) -> Output:
    """WebP if ``accept`` names ``image/webp`` with a weight above 0."""
    return WEBP if weights(accept).get("image/webp", 0.0) > 0 else JPEG
