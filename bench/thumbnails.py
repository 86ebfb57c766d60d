"""Thumbnail speed: the gateway against pyvips, plain Pillow and an ffmpeg
subprocess, on the same files in the same run.

- a 24 MP JPEG to w200: the gateway's first generation (a fresh upload each
  time, over HTTP, stored in the cache) vs ``pyvips.Image.thumbnail`` and vs
  a Pillow full decode and resize, both in this process; the gateway's own
  function in this process too, to tell the making from the request; then,
  once the thumbnail is stored, a cached hit;
- a 1080p H.264 video at a keyframe, mid-GOP and near the end: the gateway's
  first generation vs ``ffmpeg -ss T -i file -frames:v 1`` as a subprocess;
- thumbnail requests per second at concurrency 4 (distinct specs, so every
  one is made);
- the output formats: bytes, encode time and PSNR (against the resized
  pixels before encoding) of JPEG q85 (the Mix client's), WebP q85 (what
  browsers get) and AVIF (not served), at three thumbnail widths.

Needs pyvips with libvips (``pip install pyvips pyvips-binary``) and ffmpeg
(Debian package). Usage: ``python -m bench.thumbnails [--rounds 9]``;
``--formats-only`` runs the last part alone, without either.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import av
from PIL import Image, ImageChops, ImageFilter, ImageStat

from gateway.thumbnails.formats import JPEG, WEBP, Output
from gateway.thumbnails.images import image_thumbnail
from gateway.thumbnails.spec import ThumbSpec
from tests.server import free_port

from .transfer import cpu_seconds, start, wait_ready

VIDEO_SECONDS, FPS, GOP = 12, 25, 125  # a keyframe every 5 s
VIDEO_TIMES = {"keyframe (0 s)": 0.0, "mid-GOP (3.7 s)": 3.7, "near end (11.9 s)": 11.9}


def make_jpeg(path: Path, size: tuple[int, int] = (6000, 4000)) -> None:
    width, height = size
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = Image.effect_noise((width, height), 40)
    Image.merge("RGB", (red, green, blue)).save(path, "JPEG", quality=90)


def make_video(path: Path) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.codec_context.gop_size = GOP
        base = Image.radial_gradient("L").resize((1920, 1080)).convert("RGB")
        for index in range(VIDEO_SECONDS * FPS):
            frame = base.copy()
            frame.paste((index * 7 % 256, 80, 160), (index * 6 % 1800, 400, index * 6 % 1800 + 120, 680))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


async def until_idle(http: aiohttp.ClientSession, url: str, seconds: float) -> None:
    """Wait until the gateway at ``url`` makes and stores no thumbnail."""
    for _ in range(int(seconds * 100)):
        async with http.get(f"{url}/metrics") as response:
            if "gateway_thumbnails_queued 0.0" in await response.text():
                return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the gateway stayed busy for {seconds} s")


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def timed_sync(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def pillow_full(path: Path) -> bytes:
    with Image.open(path) as image:
        small = image.convert("RGB").resize((200, round(image.height * 200 / image.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()


def gateway_function(path: Path) -> bytes:
    with path.open("rb") as file:
        return image_thumbnail(file, ThumbSpec("w", 200), max_pixels=50_000_000)


def ffmpeg_frame(path: Path, at: float) -> bytes:
    command = ["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1", "-vf", "scale=200:-1"]
    return subprocess.run([*command, "-f", "image2", "pipe:1"], capture_output=True, check=True).stdout


async def run(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-thumbs-") as tmp:
        folder = Path(tmp)
        jpeg, mp4 = folder / "photo.jpg", folder / "clip.mp4"
        make_jpeg(jpeg)
        make_video(mp4)
        port = free_port()
        gateway = start(
            [sys.executable, "-m", "gateway", "--storage", f"file://{folder / 'data'}", "--port", str(port)]
        )
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
                url = f"http://127.0.0.1:{port}"
                await wait_ready(http, f"{url}/health")
                async with http.post(f"{url}/api/sessions", json={"title": "bench"}) as response:
                    files = f"{url}/api/sessions/{(await response.json())['id']}/files"

                async def upload(path: Path) -> None:
                    form = aiohttp.FormData()
                    form.add_field("file", path.read_bytes(), filename=path.name)
                    async with http.post(f"{files}/upload", data=form) as response:
                        assert response.status == 201

                async def get(query: str) -> None:
                    async with http.get(f"{files}/{query}") as response:
                        assert response.status == 200, await response.text()
                        await response.read()

                times: dict[str, list[float]] = {}

                def pyvips_thumbnail() -> None:
                    import pyvips

                    times.setdefault("image: pyvips", []).append(
                        timed_sync(lambda: pyvips.Image.thumbnail(str(jpeg), 200).write_to_buffer(".jpg[Q=85]"))
                    )
                    times.setdefault("image: gateway's function, in-process", []).append(
                        timed_sync(lambda: gateway_function(jpeg))
                    )

                for n in range(rounds):
                    if n % 2:  # before the gateway every other round, so that drift favours neither
                        pyvips_thumbnail()
                    await upload(jpeg)  # a new etag: the next request makes the thumbnail
                    times.setdefault("image: gateway, first", []).append(
                        await timed(lambda: get("photo.jpg?thumb=w200"))
                    )
                    await until_idle(http, url, 10)
                    times.setdefault("image: gateway, cached", []).append(
                        await timed(lambda: get("photo.jpg?thumb=w200"))
                    )
                    if not n % 2:
                        pyvips_thumbnail()
                    times.setdefault("image: Pillow full decode", []).append(timed_sync(lambda: pillow_full(jpeg)))
                    for label, at in VIDEO_TIMES.items():
                        await upload(mp4)
                        query = f"clip.mp4?thumb=w200&time={at}"
                        times.setdefault(f"video {label}: gateway", []).append(await timed(lambda q=query: get(q)))
                        times.setdefault(f"video {label}: ffmpeg", []).append(
                            timed_sync(lambda at=at: ffmpeg_frame(mp4, at))
                        )

                await upload(jpeg)
                specs = iter(range(100, 140))
                started = time.perf_counter()

                async def worker() -> None:
                    for size in specs:
                        await get(f"photo.jpg?thumb=w{size}")

                await asyncio.gather(*(worker() for _ in range(4)))
                rate = 40 / (time.perf_counter() - started)
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)

    median = {name: statistics.median(samples) * 1000 for name, samples in times.items()}
    print(f"Thumbnails, medians of {rounds} rounds (ms):")
    for name, value in median.items():
        print(f"  {name:<36} {value:8.1f}")
    first = median["image: gateway, first"]
    print(f"  image: gateway first / pyvips        {first / median['image: pyvips']:.2f}")
    print(f"  image: gateway first / Pillow full   {first / median['image: Pillow full decode']:.2f}")
    in_process = median["image: gateway's function, in-process"]
    print(f"  image: gateway's function / pyvips   {in_process / median['image: pyvips']:.2f} (in-process)")
    print(f"  image: first / cached hit            {first / median['image: gateway, cached']:.1f}x")
    for label in VIDEO_TIMES:
        ratio = median[f"video {label}: gateway"] / median[f"video {label}: ffmpeg"]
        print(f"  video {label}: gateway / ffmpeg  {ratio:.2f}")
    print(f"  24 MP JPEG thumbnails/s at concurrency 4: {rate:.1f}")


THUMBOR = "/work/venvs/thumbor/bin/thumbor"
REPEAT_SOURCES, COLD_SOURCES, CONCURRENCY = 8, 30, 4
#: 50 sizes from 16 to 1024, each asked as wN, hN and N: 150 specs a source.
REPEAT_SIZES = [16 + round(index * (1024 - 16) / 49) for index in range(50)]


def thumbor_path(spec: ThumbSpec) -> str:
    """The thumbor URL path that asks what ``spec`` asks the gateway."""
    if spec.side == "w":
        return f"{spec.size}x0"
    if spec.side == "h":
        return f"0x{spec.size}"
    return f"fit-in/{spec.size}x{spec.size}"


def thumbor_config(root: Path) -> str:
    return "\n".join(
        [
            "LOADER = 'thumbor.loaders.file_loader'",
            f"FILE_LOADER_ROOT_PATH = {str(root)!r}",
            "STORAGE = 'thumbor.storages.no_storage'",
            "RESULT_STORAGE = None",
            "ENGINE_THREADPOOL_SIZE = 2",
            "QUALITY = 85",  # ours
            "ALLOW_UNSAFE_URL = True",
            "",
        ]
    )


async def versus_thumbor(rounds: int, thumbor: str) -> None:
    """Requests per second at concurrency 4, every request a new spec, of
    the gateway and of thumbor (file loader, no storage, two engine threads)
    on the same files, rounds interleaved (ABBA):

    - repeat: 8 sources of 24 MP, each asked in 150 sizes, in one shuffled order;
    - cold: 30 sources of 6 MP, each asked once at w200 (four times a round,
      re-uploaded in between, so that no cache is warm);
    - first: one fresh 24 MP source at w200 over HTTP, against
      ``pyvips.Image.thumbnail`` of the same file in this process (four
      times a round).
    """
    import pyvips

    with tempfile.TemporaryDirectory(prefix="bench-thumbor-") as tmp:
        folder = Path(tmp)
        sources = folder / "sources"
        sources.mkdir()
        repeat = [sources / f"big{index}.jpg" for index in range(REPEAT_SOURCES)]
        cold = [sources / f"cold{index}.jpg" for index in range(COLD_SOURCES)]
        for path in repeat:
            make_jpeg(path)
        for path in cold:
            make_jpeg(path, (3000, 2000))
        first = sources / "first.jpg"
        make_jpeg(first)
        specs = [ThumbSpec(side, size) for size in REPEAT_SIZES for side in ("w", "h", "")]
        order = [(path, spec) for path in repeat for spec in specs]
        random.Random(14).shuffle(order)
        (folder / "thumbor.conf").write_text(thumbor_config(sources))
        gateway_port, thumbor_port = free_port(), free_port()
        gateway = start(
            [sys.executable, "-m", "gateway", "--storage", f"file://{folder / 'data'}", "--port", str(gateway_port)]
        )
        server = start([thumbor, "-c", str(folder / "thumbor.conf"), "-p", str(thumbor_port), "-l", "error"])
        rates: dict[str, list[float]] = {}
        cpu_ms: dict[str, list[float]] = {}
        firsts: dict[str, list[float]] = {}
        try:
            connector = aiohttp.TCPConnector(limit=2 * CONCURRENCY)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as http:
                url = f"http://127.0.0.1:{gateway_port}"
                thumbor_url = f"http://127.0.0.1:{thumbor_port}/unsafe"
                await wait_ready(http, f"{url}/health")
                await wait_ready(http, f"http://127.0.0.1:{thumbor_port}/healthcheck")
                async with http.post(f"{url}/api/sessions", json={"title": "bench"}) as response:
                    files = f"{url}/api/sessions/{(await response.json())['id']}/files"

                async def upload(paths: list[Path]) -> None:
                    for path in paths:
                        form = aiohttp.FormData()
                        form.add_field("file", path.read_bytes(), filename=path.name)
                        async with http.post(f"{files}/upload", data=form) as response:
                            assert response.status == 201

                async def get(target: str) -> None:
                    async with http.get(target) as response:
                        assert response.status == 200, (target, response.status)
                        await response.read()

                async def rate(name: str, targets: list[str]) -> None:
                    """Requests per second, and the server's CPU milliseconds per request."""
                    pending = iter(targets)

                    async def worker() -> None:
                        for target in pending:
                            await get(target)

                    pid = (gateway if name.endswith("gateway") else server).pid
                    before = cpu_seconds(pid)
                    spent = await timed(lambda: asyncio.gather(*(worker() for _ in range(CONCURRENCY))))
                    rates.setdefault(name, []).append(len(targets) / spent)
                    cpu_ms.setdefault(name, []).append((cpu_seconds(pid) - before) * 1000 / len(targets))

                def urls(system: str, work: list[tuple[Path, ThumbSpec]]) -> list[str]:
                    if system == "gateway":
                        return [f"{files}/{path.name}?thumb={spec}" for path, spec in work]
                    return [f"{thumbor_url}/{thumbor_path(spec)}/{path.name}" for path, spec in work]

                cold_work = [(path, ThumbSpec("w", 200)) for path in cold]
                for n in range(rounds):
                    systems = ("gateway", "thumbor") if n % 2 == 0 else ("thumbor", "gateway")
                    for system in systems:
                        if system == "gateway":
                            await upload(repeat)  # new etags: no thumbnail or copy of the last round
                        await rate(f"repeat {system}", urls(system, order))
                    abba = (*systems, *reversed(systems)) * 2
                    for system in abba:
                        if system == "gateway":
                            await upload(cold)
                        await rate(f"cold {system}", urls(system, cold_work))
                    for system in abba:
                        if system == "gateway":
                            await upload([first])
                            # A single request to an idle gateway, as pyvips gets an idle process.
                            await until_idle(http, url, 60)
                            spent = await timed(lambda: get(f"{files}/first.jpg?thumb=w200"))
                        else:
                            spent = timed_sync(
                                lambda: pyvips.Image.thumbnail(str(first), 200).write_to_buffer(".jpg[Q=85]")
                            )
                        firsts.setdefault("gateway" if system == "gateway" else "pyvips", []).append(spent)
        finally:
            for process in (gateway, server):
                process.terminate()
                process.wait(timeout=30)

    print(f"Thumbnails vs thumbor, concurrency {CONCURRENCY}, {rounds} rounds (requests/s, median [min-max];")
    print("  the server's CPU ms per request, median):")
    for name, samples in rates.items():
        spread, cpu = f"[{min(samples):.1f}-{max(samples):.1f}]", statistics.median(cpu_ms[name])
        print(f"  {name:<16} {statistics.median(samples):7.1f} {spread}  {cpu:6.1f} ms CPU")
    for workload in ("repeat", "cold"):
        ratios = [g / t for g, t in zip(rates[f"{workload} gateway"], rates[f"{workload} thumbor"], strict=True)]
        print(
            f"  {workload} gateway / thumbor: {statistics.median(ratios):.2f}"
            f" [{min(ratios):.2f}-{max(ratios):.2f}] ({len(order) if workload == 'repeat' else len(cold)} requests)"
        )
    ratios = [g / v for g, v in zip(firsts["gateway"], firsts["pyvips"], strict=True)]
    print(
        f"  first request: gateway {statistics.median(firsts['gateway']) * 1000:.1f} ms,"
        f" pyvips in-process {statistics.median(firsts['pyvips']) * 1000:.1f} ms,"
        f" ratio {statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
    )


AVIF = Output("AVIF", "image/avif", ".avif", {"quality": 60})
FORMAT_WIDTHS = (200, 400, 1024)


def psnr(reference: Image.Image, other: Image.Image) -> float:
    mse = statistics.mean(rms**2 for rms in ImageStat.Stat(ImageChops.difference(reference, other)).rms)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def formats(rounds: int) -> None:
    """Two sources: the 24 MP bench picture (gradients and noise, hard to
    compress) and a smooth one (a blurred Mandelbrot set, like a photo's
    large areas)."""
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        path = Path(tmp) / "photo.jpg"
        make_jpeg(path)
        with Image.open(path) as image:
            image.draft("RGB", (1500, 1000))
            noisy = image.convert("RGB")
    shape = Image.effect_mandelbrot((1500, 1000), (-2, -1.2, 1, 1.2), 100).convert("L")
    gradients = [Image.linear_gradient("L").resize((1500, 1000)), Image.radial_gradient("L").resize((1500, 1000))]
    smooth = Image.merge("RGB", (shape, *gradients)).filter(ImageFilter.GaussianBlur(2))
    print(f"Thumbnail formats, medians of {rounds} encodes:")
    print(f"  {'source':<6} {'width':>5} {'format':<6} {'bytes':>8} {'vs JPEG':>8} {'encode ms':>10} {'PSNR dB':>8}")
    for (label, source), width in itertools.product([("noisy", noisy), ("smooth", smooth)], FORMAT_WIDTHS):
        small = source.resize((width, round(source.height * width / source.width)), Image.Resampling.LANCZOS)
        jpeg_bytes = len(JPEG.encode(small.copy()))
        for output in (JPEG, WEBP, AVIF):
            encode_ms = statistics.median(
                timed_sync(lambda o=output, s=small: o.encode(s.copy()))
                for _ in range(rounds)  # type: ignore[misc]
            )
            data = output.encode(small.copy())
            decoded = Image.open(io.BytesIO(data)).convert("RGB")
            print(
                f"  {label:<6} {width:>5} {output.pillow:<6} {len(data):>8} {len(data) / jpeg_bytes:>8.2f}"
                f" {encode_ms * 1000:>10.1f} {psnr(small, decoded):>8.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--formats-only", action="store_true", help="only the output formats' figures")
    parser.add_argument("--thumbor-only", action="store_true", help="only the throughput against thumbor")
    parser.add_argument("--thumbor", default=THUMBOR, help="thumbor's executable (PyPI thumbor 7.8 in a venv)")
    args = parser.parse_args()
    if args.thumbor_only:
        asyncio.run(versus_thumbor(args.rounds, args.thumbor))
        return
    if not args.formats_only:
        asyncio.run(run(args.rounds))
        asyncio.run(versus_thumbor(args.rounds, args.thumbor))
    formats(args.rounds)


if __name__ == "__main__":
    main()
