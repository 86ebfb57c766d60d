"""Images and videos made by the tests themselves, with Pillow and PyAV."""

from __future__ import annotations

import io

import av
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


#: The colour of each second of a test video: the frame shown tells the time.
SECOND_COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def video(
    seconds: float,
    *,
    fmt: str = "mp4",
    codec: str = "libx264",
    size: tuple[int, int] = (320, 240),
    fps: int = 10,
    rotation: int = 0,
) -> bytes:
    """A video whose frames are coloured by the second they belong to (the
    left tenth always white, so orientation shows), one keyframe every 2.5 s."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as container:
        # No scene-cut keyframes where the colour changes: only the regular ones.
        stream = container.add_stream(
            codec, rate=fps, options={"x264-params": "scenecut=0"} if codec == "libx264" else {}
        )
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = int(fps * 2.5)
        if rotation:
            stream.set_display_rotation(rotation)
        for index in range(max(1, int(seconds * fps))):
            picture = Image.new("RGB", size, SECOND_COLOURS[int(index / fps) % len(SECOND_COLOURS)])
            picture.paste((255, 255, 255), (0, 0, size[0] // 10, size[1]))
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
