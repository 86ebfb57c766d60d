"""Video thumbnails with PyAV: the frame shown at a given time.

We seek to the keyframe at or before the time and decode forward to the last
frame whose timestamp is not after it, so the frame is exact, not the
keyframe's; a time past the end gives the last frame. The display rotation
(the container's display matrix) is applied.

Decoding forward is bounded: a frame that lies more than ``DECODE_PIXELS``
worth of frames after its keyframe (2000 frames of 1080p, 500 of 4K: seconds
of one core) is refused, so a video with sparse keyframes cannot keep a
worker busy for minutes.
"""

from __future__ import annotations

from typing import BinaryIO

import av
from PIL import Image

from .errors import MediaError
from .formats import JPEG, Output
from .images import resize
from .spec import ThumbSpec

#: Pillow's Lanczos gets twice the thumbnail's pixels to work from.
PRESCALE = 2
EXTENSIONS = frozenset({".mp4", ".webm", ".mov", ".avi", ".mkv", ".wmv", ".flv", ".m4v"})
DECODE_PIXELS = 2000 * 1920 * 1080


def video_thumbnail(
    source: BinaryIO,
    spec: ThumbSpec,
    at: float,
    max_pixels: int,
    decode_pixels: int = DECODE_PIXELS,
    output: Output = JPEG,
) -> bytes:
    """A thumbnail of the frame shown at ``at`` seconds; ``MediaError`` if none can be had."""
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise MediaError("No video stream in the file")
            stream = container.streams.video[0]
            # Frame threading pays a set-up and a pipeline of frames in flight
            # before the first frame comes out: more than it saves on the
            # one GOP a thumbnail decodes, with two thumbnails made at once
            # on the cores anyway (in bench/thumbnails.py 0.36-0.47 of
            # ffmpeg's time at mid-GOP, against 0.56-0.57 with AUTO).
            stream.thread_type = "SLICE"
            pixels = (stream.codec_context.width or 0) * (stream.codec_context.height or 0)
            if pixels > max_pixels:
                raise MediaError(f"Video frames have {pixels} pixels; the limit is {max_pixels}")
            frame = _frame_at(container, stream, at, max(1, decode_pixels // max(1, pixels)))
            quarter_turn = frame.rotation % 180 != 0
            shown = (frame.height, frame.width) if quarter_turn else (frame.width, frame.height)
            image = _prescaled(frame, spec.target(*shown), shown)
            if frame.rotation:
                image = image.rotate(frame.rotation, expand=True)  # both counter-clockwise
            return output.encode(resize(image, spec, original=shown))
    except av.FFmpegError as exc:
        raise MediaError(f"Corrupt or unreadable video: {exc}") from None


def _prescaled(frame: av.VideoFrame, target: tuple[int, int], shown: tuple[int, int]) -> Image.Image:
    """The frame in RGB at ``PRESCALE`` times the thumbnail's size (never
    more than its own): swscale shrinks and converts in one pass, which for a
    1080p frame costs less than converting it whole for Pillow."""
    factor = min(1.0, PRESCALE * max(target[0] / shown[0], target[1] / shown[1]))
    width, height = max(1, round(frame.width * factor)), max(1, round(frame.height * factor))
    return frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_image()


def _frame_at(container: av.container.InputContainer, stream: av.VideoStream, at: float, budget: int) -> av.VideoFrame:
    """The frame shown at ``at``, decoding at most ``budget`` packets."""
    time_base = stream.time_base
    start = stream.start_time or 0
    target = start + int(at / time_base) if time_base else None
    if target is not None and at > 0:
        try:
            container.seek(target, stream=stream, backward=True, any_frame=False)
        except av.FFmpegError:
            container.seek(0)
    shown = None
    for count, packet in enumerate(container.demux(stream)):
        if count == budget:
            raise MediaError(
                f"The frame at {at:g} s lies more than {budget} frames after the keyframe before it; "
                "a thumbnail decodes no more at this frame size"
            )
        for frame in packet.decode():
            if target is not None and frame.pts is not None and frame.pts > target and shown is not None:
                return shown
            shown = frame
    if shown is None:
        raise MediaError("No frame could be decoded")
    return shown
