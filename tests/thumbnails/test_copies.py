"""Thumbnails made of a reduced copy of the source: as good as a direct
resize of the original, made without decoding the source again, bounded,
and never of an older version of the file.

The measure: PSNR >= 40 dB against a full decode of the original (no
decoder scaling), EXIF orientation applied, resized by Pillow's Lanczos to
the same size, all compared before encoding (PNG output). pyvips is the
bench's reference, not a test dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import statistics
from collections.abc import AsyncIterator

import httpx
import pytest
from mix_python_sdk import Mix
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps, ImageStat

from backends.base import Blob
from backends.memory import MemoryBackend
from gateway.thumbnails import Thumbnailer
from gateway.thumbnails.copies import Copies
from gateway.thumbnails.formats import Output
from gateway.thumbnails.images import Decoded, decode, image_thumbnail
from gateway.thumbnails.spec import ThumbSpec, parse_thumb

from ..mix_client import upload
from ..server import ThreadedGateway
from ..test_metrics import samples, value
from .media import encode

PNG = Output("PNG", "image/png", ".png")
LIMIT = 50_000_000
MIN_PSNR = 40.0
SPECS = ["w64", "w200", "h300", "512", "w1000", "h1024", "1024"]


def picture(width: int, height: int, colour: tuple[int, int, int] = (250, 250, 40)) -> Image.Image:
    """Photo-like: smooth areas, a fractal's detail and sharp-edged bars."""
    shape = Image.effect_mandelbrot((width, height), (-2, -1.2, 1, 1.2), 100).convert("L")
    gradients = [Image.linear_gradient("L").resize((width, height)), Image.radial_gradient("L").resize((width, height))]
    image = Image.merge("RGB", (shape, *gradients)).filter(ImageFilter.GaussianBlur(3))
    draw = ImageDraw.Draw(image)
    for left in range(0, width, width // 12):
        draw.rectangle((left, height // 3, left + width // 40, height // 2), fill=colour)
    return image


def jpeg(image: Image.Image, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=92, exif=exif)


def psnr(reference: Image.Image, other: Image.Image) -> float:
    assert reference.size == other.size
    mse = statistics.mean(rms**2 for rms in ImageStat.Stat(ImageChops.difference(reference, other)).rms)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def reference(data: bytes, spec: ThumbSpec) -> Image.Image:
    """A full-quality resize of the whole original."""
    original = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    return original.resize(spec.target(*original.size), Image.Resampling.LANCZOS)


def copy_of(data: bytes) -> Decoded:
    return decode(io.BytesIO(data), None, LIMIT).fitted()


@pytest.mark.parametrize(
    ("size", "orientation"),
    [((3200, 2400), 1), ((2400, 3200), 1), ((3200, 2400), 6), ((3200, 2400), 8), ((2400, 3200), 3)],
    ids=["landscape", "portrait", "exif-6", "exif-8", "portrait-exif-3"],
)
def test_thumbnails_of_a_copy_match_a_full_resize_of_the_original(size: tuple[int, int], orientation: int) -> None:
    data = jpeg(picture(*size), orientation)
    copy = copy_of(data)
    shown = size[::-1] if orientation in (5, 6, 7, 8) else size
    assert copy.original == shown
    # The copy is no larger than the largest thumbnail: its short side 1024.
    assert min(copy.image.size) == 1024 and copy.nbytes < 4.5 * 1024 * 1024
    for raw in SPECS:
        spec = parse_thumb(raw)
        assert copy.serves(spec)
        expected = reference(data, spec)
        of_copy = Image.open(io.BytesIO(copy.thumbnail(spec, PNG)))
        direct = Image.open(io.BytesIO(image_thumbnail(io.BytesIO(data), spec, LIMIT, PNG)))
        assert (raw, psnr(expected, of_copy) >= MIN_PSNR) == (raw, True), psnr(expected, of_copy)
        assert (raw, psnr(expected, direct) >= MIN_PSNR) == (raw, True), psnr(expected, direct)


def test_a_copy_of_a_small_source_is_the_source() -> None:
    data = encode(picture(600, 400), "PNG")
    copy = copy_of(data)
    assert copy.image.size == (600, 400)
    assert copy.covers == (1536, 1024)  # upscaled like a direct thumbnail of it
    spec = parse_thumb("w900")
    assert psnr(reference(data, spec), Image.open(io.BytesIO(copy.thumbnail(spec, PNG)))) >= MIN_PSNR


class CountingStorage(MemoryBackend):
    """Memory storage that counts how often each source is opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @contextlib.asynccontextmanager
    async def _open(self, key: str) -> AsyncIterator[Blob]:
        if not key.startswith("thumbs/"):
            self.opened.append(key)
        async with super()._open(key) as blob:
            yield blob


async def thumbnail(thumbnails: Thumbnailer, storage: CountingStorage, spec: str) -> Image.Image:
    info = await storage.stat("a.jpg")
    async with thumbnails.open(info, "thumbs/a.jpg/", parse_thumb(spec), None, PNG) as blob:
        return Image.open(io.BytesIO(b"".join([chunk async for chunk in blob.stream()])))


async def test_sizes_after_the_first_are_made_of_one_copy_then_a_reupload_of_the_new_one() -> None:
    storage = CountingStorage()
    copies = Copies()
    thumbnails = Thumbnailer(storage, max_pixels=LIMIT, observe=lambda _: None, timeout=30, copies=copies)
    try:
        old = jpeg(picture(3000, 2000), 6)
        await storage.put_bytes("a.jpg", old)
        specs = ["w100", "h150", "300", "w640", "h1024", "64"]
        for raw in specs:
            made = await thumbnail(thumbnails, storage, raw)
            assert psnr(reference(old, parse_thumb(raw)), made.convert("RGB")) >= MIN_PSNR
        # Once for the first thumbnail, once for the copy, never again.
        assert storage.opened == ["a.jpg", "a.jpg"]
        assert (len(copies), copies.nbytes) == (1, 1024 * 1536 * 3)

        new = jpeg(picture(2000, 3000, colour=(20, 20, 250)))  # other bars, another orientation
        await storage.put_bytes("a.jpg", new)
        for raw in ["w120", "h200", "w500"]:
            made = await thumbnail(thumbnails, storage, raw)
            assert psnr(reference(new, parse_thumb(raw)), made.convert("RGB")) >= MIN_PSNR
        assert storage.opened == ["a.jpg"] * 4  # the new version: its first thumbnail, then its copy
        assert len(copies) == 1  # the old version's copy is gone
    finally:
        await thumbnails.close()
    assert (len(copies), copies.nbytes) == (0, 0)


async def test_concurrent_sizes_share_one_copy() -> None:
    storage = CountingStorage()
    thumbnails = Thumbnailer(storage, max_pixels=LIMIT, observe=lambda _: None, timeout=30)
    try:
        await storage.put_bytes("a.jpg", jpeg(picture(3000, 2000)))
        await thumbnail(thumbnails, storage, "w100")
        sizes = await asyncio.gather(*(thumbnail(thumbnails, storage, f"w{size}") for size in range(200, 208)))
        assert [image.width for image in sizes] == list(range(200, 208))
        assert storage.opened == ["a.jpg", "a.jpg"]
    finally:
        await thumbnails.close()


class GatedStorage(CountingStorage):
    """Counting storage whose second open of a source (the copy's) waits
    for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.waiting = asyncio.Event(), asyncio.Event()

    @contextlib.asynccontextmanager
    async def _open(self, key: str) -> AsyncIterator[Blob]:
        async with super()._open(key) as blob:
            if self.opened.count(key) == 2:
                self.waiting.set()
                await self.gate.wait()
            yield blob


async def test_a_copy_made_while_its_file_is_forgotten_is_not_kept() -> None:
    storage = GatedStorage()
    copies = Copies()
    thumbnails = Thumbnailer(storage, max_pixels=LIMIT, observe=lambda _: None, timeout=30, copies=copies)
    try:
        await storage.put_bytes("a.jpg", jpeg(picture(3000, 2000)))
        await thumbnail(thumbnails, storage, "w100")
        second = asyncio.ensure_future(thumbnail(thumbnails, storage, "w200"))
        await storage.waiting.wait()  # the copy has the source open
        thumbnails.forget("a.jpg")
        storage.gate.set()
        assert (await second).width == 200  # answered: the file was there when read
        assert (len(copies), copies.nbytes) == (0, 0)
        for raw in ("w300", "w400"):  # asked for anew: made directly, then of a new copy
            await thumbnail(thumbnails, storage, raw)
        assert len(copies) == 1 and storage.opened == ["a.jpg"] * 4
    finally:
        await thumbnails.close()


async def test_forget_drops_only_that_file_and_forget_under_a_prefix() -> None:
    copies = Copies()
    for key in ("s/1/a.jpg", "s/1/a.jpg.png", "s/2/a.jpg"):
        copies.wanted(key, "e")
        copies.add(key, "e", fake(10, 10))
    copies.forget("s/1/a.jpg".__eq__)
    assert [copies.get(key, "e") is None for key in ("s/1/a.jpg", "s/1/a.jpg.png", "s/2/a.jpg")] == [True, False, False]
    assert not copies.wanted("s/1/a.jpg", "e")  # forgotten as asked for too: its next copy waits for a second ask
    copies.forget(lambda key: key.startswith("s/1/"))
    assert (len(copies), copies.nbytes) == (1, 300)
    copies.clear()


def fake(width: int, height: int) -> Decoded:
    return Decoded(Image.new("RGB", (width, height)), (width, height), 1, (width, height), (width, height))


async def test_copies_are_bounded_by_count_bytes_and_size() -> None:
    copies = Copies(max_bytes=10 * 30_000, max_count=3, max_copy_bytes=60_000)
    for index in range(4):
        assert not copies.wanted(f"k{index}", "e")  # asked once: no copy yet
        assert copies.wanted(f"k{index}", "e")
        copies.add(f"k{index}", "e", fake(100, 100))  # 30,000 bytes each
    assert len(copies) == 3 and copies.get("k0", "e") is None  # the least recently used went
    assert copies.get("k1", "e") is not None
    copies.add("k4", "e", fake(100, 180))  # 54,000: the bytes bound evicts as well
    assert copies.nbytes <= 10 * 30_000 and len(copies) == 3
    assert copies.get("k1", "e") is not None and copies.get("k2", "e") is None  # k1 was used since
    copies.add("big", "e", fake(200, 200))  # 120,000: over a copy's bound, never kept
    assert copies.get("big", "e") is None
    assert not copies.wanted("big", "e")  # and not made again for nothing
    copies.clear()


async def test_a_new_version_drops_the_old_copy_and_idle_copies_go() -> None:
    copies = Copies(idle=0.05)
    copies.add("k", "old", fake(10, 10))
    assert not copies.wanted("k", "new")  # first ask of the new version
    assert copies.get("k", "old") is None and len(copies) == 0
    copies.add("k", "new", fake(10, 10))
    copies.add("j", "e", fake(10, 10))
    await asyncio.sleep(0.03)
    assert copies.get("j", "e") is not None  # used: its idle time starts again
    await asyncio.sleep(0.04)
    assert (copies.get("k", "new"), len(copies)) == (None, 1)
    await asyncio.sleep(0.06)
    assert len(copies) == 0 and copies.nbytes == 0


def test_reupload_through_the_api_shows_the_new_picture_in_every_size(
    gateway: ThreadedGateway, mix: Mix, session_id: str
) -> None:
    url = f"{gateway.url}/api/sessions/{session_id}/files/photo.jpg"
    # The new version is shown upright (EXIF 6), with bars of another colour.
    old, new = jpeg(picture(1600, 1200)), jpeg(picture(1600, 1200, colour=(20, 20, 250)), 6)
    upload(mix, session_id, "photo.jpg", old)
    for spec in ("w100", "w300", "h200", "400"):
        assert httpx.get(f"{url}?thumb={spec}", timeout=60).status_code == 200
    upload(mix, session_id, "photo.jpg", new)
    for spec in ("w120", "w300", "h240", "500"):  # w300: asked of the old version too
        made = Image.open(io.BytesIO(httpx.get(f"{url}?thumb={spec}", timeout=60).content))
        expected = reference(new, parse_thumb(spec))
        assert made.size == expected.size
        # JPEG q85 on the way: 30-36 dB; the old picture, resized to match, scores 11.
        assert psnr(expected, made.convert("RGB")) >= 25


def copies_held(gateway: ThreadedGateway) -> tuple[float, float]:
    """The copies this gateway keeps, and their bytes, from its metrics."""
    found = samples(gateway)
    return value(found, "gateway_thumbnail_copies"), value(found, "gateway_thumbnail_copy_bytes")


def test_deleting_or_replacing_a_file_or_its_session_drops_its_copies(
    gateway: ThreadedGateway, mix: Mix, session_id: str
) -> None:
    files = f"{gateway.url}/api/sessions/{session_id}/files"

    def sizes(name: str) -> None:
        for spec in ("w100", "w300"):  # the second is made of a copy, kept
            assert httpx.get(f"{files}/{name}?thumb={spec}", timeout=60).status_code == 200

    upload(mix, session_id, "a.jpg", jpeg(picture(1600, 1200)))
    upload(mix, session_id, "b.jpg", jpeg(picture(1200, 1600)))
    sizes("b.jpg")
    count, of_b = copies_held(gateway)
    assert count == 1 and of_b > 1024 * 1024
    sizes("a.jpg")
    count, of_both = copies_held(gateway)
    assert count == 2 and of_both > of_b

    mix.files.delete_session_file(id=session_id, filename="a.jpg")
    assert copies_held(gateway) == (1, of_b)  # a's copy went, b's stays
    upload(mix, session_id, "b.jpg", jpeg(picture(1200, 1600, colour=(20, 20, 250))))
    assert copies_held(gateway) == (0, 0)
    sizes("b.jpg")
    assert copies_held(gateway)[0] == 1
    mix.sessions.delete(id=session_id)
    assert copies_held(gateway) == (0, 0)
