"""Video thumbnails with PyAV: the frame shown at a given time.

We seek to the keyframe at or before the time and decode forward to the last
frame whose timestamp is not after it, so the frame is exact, not the
keyframe's; a time past the end gives the last frame. The display rotation
(the container's display matrix) is applied.
"""

from __future__ import annotations

from typing import BinaryIO

import av
from PIL import Image

from .errors import MediaError
from .images import encode_jpeg, resize
from .spec import ThumbSpec

EXTENSIONS = frozenset({".mp4", ".webm", ".mov", ".avi", ".mkv", ".wmv", ".flv", ".m4v"})


def video_thumbnail(source: BinaryIO, spec: ThumbSpec, at: float, max_pixels: int) -> bytes:
    """A JPEG of the frame shown at ``at`` seconds; ``MediaError`` if none can be had."""
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise MediaError("No video stream in the file")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            pixels = (stream.codec_context.width or 0) * (stream.codec_context.height or 0)
            if pixels > max_pixels:
                raise MediaError(f"Video frames have {pixels} pixels; the limit is {max_pixels}")
            frame = _frame_at(container, stream, at)
            image: Image.Image = frame.to_image()
            if frame.rotation:
                image = image.rotate(frame.rotation, expand=True)  # both counter-clockwise
            return encode_jpeg(resize(image, spec))
    except av.FFmpegError as exc:
        raise MediaError(f"Corrupt or unreadable video: {exc}") from None


def _frame_at(container: av.container.InputContainer, stream: av.VideoStream, at: float) -> av.VideoFrame:
    time_base = stream.time_base
    start = stream.start_time or 0
    target = start + int(at / time_base) if time_base else None
    if target is not None and at > 0:
        try:
            container.seek(target, stream=stream, backward=True, any_frame=False)
        except av.FFmpegError:
            container.seek(0)
    shown = None
    for frame in container.decode(stream):
        if target is not None and frame.pts is not None and frame.pts > target and shown is not None:
            break
        shown = frame
    if shown is None:
        raise MediaError("No frame could be decoded")
    return shown
