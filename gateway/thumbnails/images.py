"""Image thumbnails with Pillow: shrink-on-load, EXIF orientation, any mode
flattened to RGB on white, and a pixel limit checked before decoding.

Memory: the decoded image is box-reduced to about twice the thumbnail
first, and every conversion and flattening works on that (the EXIF
rotation on the thumbnail, once resized). A
reduction holds at most 9 bytes a pixel (a palette's indices, their RGBA
expansion and Pillow's premultiplied copy for averaging with alpha), so
images of ``LARGE_BYTES`` or more at 4 bytes a pixel (16 MP) are decoded
and reduced one at a time (JPEGs decode at a reduced scale and never are):
with two workers, thumbnails hold at most 9 bytes × ``max_image_pixels``
(450 MB at the default 50 MP) for the large one and 9 bytes × 16 MP (150
MB) for the other, and glibc is asked to give the pages back once a large
one is done (measured: a 7000 × 7000 RGBA PNG in four sizes at once, peak
+402 MiB, 38 MiB kept after).

A JPEG is refused unread when its metadata segments exceed
``MAX_JPEG_METADATA``, its headers run past ``MAX_JPEG_HEADERS``, or it has
more than ``MAX_FILL`` fill bytes in a row: Pillow parses metadata segments
in time quadratic in their number (1000 of 64 KB took 20 s) and walks fill
bytes one by one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
from dataclasses import dataclass, replace
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from .errors import MediaError
from .formats import JPEG, Output
from .spec import ThumbSpec, largest

#: The decoders we let Pillow use; anything else is refused unread.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"})
ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
#: What shows an image of each EXIF orientation upright (Pillow's exif_transpose,
#: which wants the EXIF on the image it turns).
ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: EXIF is at most 64 KB; ICC profiles and XMP take a few segments more.
MAX_JPEG_METADATA = 4 * 1024 * 1024
#: ... and all that comes before the image data, fill bytes included.
MAX_JPEG_HEADERS = 2 * MAX_JPEG_METADATA
#: Fill bytes (0xFF) in a row; encoders write a few at most.
MAX_FILL = 64 * 1024
#: Images (but JPEGs) this large once decoded are decoded one at a time.
LARGE_BYTES = 64 * 1024 * 1024
_LARGE = threading.Lock()
#: glibc's, to give freed pages back; other C libraries have none.
_TRIM = getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "malloc_trim", None)


@dataclass(frozen=True)
class Decoded:
    """An image decoded and in RGB, as stored (its EXIF orientation not yet
    applied), reduced no further than thumbnails up to ``covers`` need.

    The whole source spans ``extent`` of ``image``'s pixels: a decoder scale
    or box reduction that does not divide the size leaves a last row and
    column of partial pixels, which a resize must not stretch over (a
    400 px draft reduced by 3 is 134 px wide, of which 133.3 are the source).
    """

    image: Image.Image
    extent: tuple[float, float]
    orientation: int
    #: The source's size and the largest thumbnail's this serves, as shown (oriented).
    original: tuple[int, int]
    covers: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return self.image.width * self.image.height * 3

    def serves(self, spec: ThumbSpec) -> bool:
        """Whether the thumbnail of ``spec`` can be made of this as well as of the source."""
        width, height = spec.target(*self.original)
        return width <= self.covers[0] and height <= self.covers[1]

    def thumbnail(self, spec: ThumbSpec, output: Output = JPEG) -> bytes:
        """Resized as stored, then oriented: a turn of the small image costs nothing."""
        return output.encode(self._oriented(self._resized(spec.target(*self.original))))

    def fitted(self) -> Decoded:
        """This, resized to the largest thumbnail it serves if it is larger."""
        if self.image.width * self.image.height <= self.covers[0] * self.covers[1]:
            return self
        image = self._resized(self.covers)
        return replace(self, image=image, extent=image.size)

    def _resized(self, target: tuple[int, int]) -> Image.Image:
        stored = (target[1], target[0]) if self.orientation in ROTATED else target
        return resize_to(self.image, stored, box=(0, 0, *self.extent))

    def _oriented(self, image: Image.Image) -> Image.Image:
        turn = ORIENTATIONS.get(self.orientation)
        return image if turn is None else image.transpose(turn)


def image_thumbnail(source: BinaryIO, spec: ThumbSpec, max_pixels: int, output: Output = JPEG) -> bytes:
    """A thumbnail of the image in ``source``; ``MediaError`` if it cannot be made."""
    return decode(source, spec, max_pixels).thumbnail(spec, output)


def decode(source: BinaryIO, spec: ThumbSpec | None, max_pixels: int) -> Decoded:
    """The image in ``source`` decoded for thumbnails up to the size of
    ``spec``'s (of any spec's if None); ``MediaError`` if it cannot be."""
    try:
        _check_jpeg_metadata(source)
        with Image.open(source, formats=FORMATS) as image:
            pixels = image.width * image.height
            if pixels > max_pixels:
                raise MediaError(f"Image has {pixels} pixels; the limit is {max_pixels}")
            # A JPEG decodes at a reduced scale; other formats whole, and some
            # (PNG, with EXIF after the pixels) already while their EXIF is read.
            # 4 bytes a pixel, whatever the mode: a palette becomes RGBA, and
            # 16- and 32-bit modes take as much.
            large = image.format != "JPEG" and pixels * 4 >= LARGE_BYTES
            with _LARGE if large else contextlib.nullcontext():
                orientation = image.getexif().get(0x0112, 1)
                swapped = orientation in ROTATED
                width, height = (image.height, image.width) if swapped else image.size
                target = (spec or largest(width, height)).target(width, height)
                stored_target = (target[1], target[0]) if swapped else target
                # JPEG: decode at 1/2, 1/4 or 1/8 scale when that is still large enough.
                drafted = image.draft("RGB", stored_target)
                extent = drafted[1][2:] if drafted else image.size
                small, factor = _reduced(image, stored_target)
                image.close()  # the decoded pixels go now, not after the encode
                small = _to_rgb(small)
                if large and _TRIM is not None:  # back to the system before the next large one takes more
                    _TRIM(0)
        return Decoded(small, (extent[0] / factor, extent[1] / factor), orientation, (width, height), target)
    except UnidentifiedImageError:
        raise MediaError("Not an image in a supported format (JPEG, PNG, GIF, WebP, BMP, TIFF)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"Corrupt or truncated image: {exc}") from None


def _check_jpeg_metadata(source: BinaryIO) -> None:
    """``MediaError`` if a JPEG's segments before its image data (APPn and
    comments) hold more than ``MAX_JPEG_METADATA``; anything not a JPEG, or
    malformed, is left to Pillow."""
    start = source.tell()
    try:
        if source.read(2) != b"\xff\xd8":
            return
        metadata = 0
        while len(marker := source.read(2)) == 2 and marker[0] == 0xFF:
            if source.tell() - start > MAX_JPEG_HEADERS:  # fill bytes, or tables without end
                raise MediaError(f"JPEG headers over {MAX_JPEG_HEADERS // (1024 * 1024)} MB")
            kind = marker[1]
            if kind == 0xFF:  # fill bytes: skip the run in one read, not byte by byte
                run = source.read(MAX_FILL)
                kept = run.lstrip(b"\xff")
                if not kept and len(run) == MAX_FILL:
                    raise MediaError(f"JPEG with over {MAX_FILL} fill bytes in a row")
                source.seek(-len(kept) - 1, 1)  # back to the last fill byte, before the marker
                continue
            if kind == 0xDA or not (length := int.from_bytes(source.read(2), "big")) >= 2:
                return  # start of scan: the headers end here
            if 0xE0 <= kind <= 0xEF or kind == 0xFE:
                metadata += length
                if metadata > MAX_JPEG_METADATA:
                    raise MediaError(f"JPEG metadata over {MAX_JPEG_METADATA // (1024 * 1024)} MB")
            source.seek(length - 2, 1)
    finally:
        source.seek(start)


def _reduced(image: Image.Image, target: tuple[int, int]) -> tuple[Image.Image, int]:
    """The decoded image box-averaged by the largest whole factor that
    leaves twice ``target``, in a mode whose values can be averaged (a new
    image in any case), and the factor."""
    if image.mode in ("1", "P", "PA") or image.mode.startswith("I;16"):
        image = _to_rgb(image)  # bits, palette indices and 16-bit values cannot be
    factor = max(1, min(image.width // (2 * target[0]), image.height // (2 * target[1])))
    return image.reduce(factor), factor  # a copy at 1: the decoded image is closed next


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grey: keep the top 8 bits
        image = image.point(lambda value: value / 256).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def resize(image: Image.Image, spec: ThumbSpec, original: tuple[int, int] | None = None) -> Image.Image:
    """``image`` in RGB at the spec's size for the ``original`` size (the
    image's own unless it was already scaled down)."""
    return resize_to(_to_rgb(image), spec.target(*(original or image.size)))


def resize_to(
    image: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float] | None = None
) -> Image.Image:
    """Lanczos, after box-averaging by the whole factor that leaves at least
    twice ``size`` (``reducing_gap``): Lanczos on all of a 750 px JPEG draft
    going to 200 px took 4 ms of the 70. A gap of 2 rather than 1.5 keeps a
    64 px thumbnail made of a reduced copy at 48 dB PSNR against a
    full-quality resize (1.5: 42 dB)."""
    return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
