"""Thumbnails of images (Pillow) and video frames (PyAV), made off the event
loop and cached in storage: see ``thumbnailer.py``."""

from .errors import Busy, MediaError
from .formats import JPEG, Output, negotiate
from .spec import SpecError, ThumbSpec, parse_thumb, parse_time
from .thumbnailer import THUMBNAILS, Thumbnailer

__all__ = [
    "JPEG",
    "THUMBNAILS",
    "Busy",
    "MediaError",
    "Output",
    "SpecError",
    "ThumbSpec",
    "Thumbnailer",
    "negotiate",
    "parse_thumb",
    "parse_time",
]
