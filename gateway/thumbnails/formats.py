"""What a thumbnail is encoded as: WebP for clients that list it in
``Accept`` (browsers do), JPEG for everyone else (the Mix client sends no
image ``Accept`` and keeps getting JPEG).

``bench/thumbnails.py`` compares them at 200, 400 and 1024 px. WebP at
quality 85 takes 34-57% of our JPEG's (q85) bytes, at a PSNR within 0.8 dB
on a smooth picture (0.2-3.9 dB lower on a noisy one), in 0.7-14 ms against
0.1-1.9 ms; ``method`` 2 encodes a 1024 px thumbnail in half the time of the
default 4 for 4% more bytes. AVIF takes 17-44% of JPEG's bytes but 7-118 ms
to encode, as long as decoding the source itself: not offered.

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
WEBP = Output("WEBP", "image/webp", ".webp", {"quality": 85, "method": 2})


def negotiate(accept: str | None) -> Output:
    """WebP if ``accept`` names ``image/webp`` with a weight above 0."""
    return WEBP if weights(accept).get("image/webp", 0.0) > 0 else JPEG
