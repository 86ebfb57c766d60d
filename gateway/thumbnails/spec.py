"""The ``thumb`` and ``time`` query parameters."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal


class SpecError(ValueError):
    """A ``thumb`` or ``time`` value that means nothing; the message says why."""


MIN_SIZE, MAX_SIZE = 16, 1024
MAX_TIME = 86400.0
DEFAULT_TIME = 1.0
SPEC = re.compile(r"([wh]?)([0-9]{1,4})")


@dataclass(frozen=True)
class ThumbSpec:
    """``N`` fits in an N×N box, ``wN`` sets the width, ``hN`` the height."""

    side: Literal["", "w", "h"]
    size: int

    def __str__(self) -> str:
        return f"{self.side}{self.size}"

    def target(self, width: int, height: int) -> tuple[int, int]:
        """Output size for a ``width``×``height`` source, aspect ratio kept:
        the governing side is N, the other ``round(other * N / side)``, at
        least 1 (upstream's rounding)."""
        by_width = self.side == "w" or (self.side == "" and width >= height)
        if by_width:
            return self.size, max(1, round(height * self.size / width))
        return max(1, round(width * self.size / height)), self.size


def largest(width: int, height: int) -> ThumbSpec:
    """The spec of the largest thumbnail of a ``width``×``height`` source:
    its short side at ``MAX_SIZE`` (``h1024`` of a landscape picture)."""
    return ThumbSpec("h" if width >= height else "w", MAX_SIZE)


def parse_thumb(raw: str) -> ThumbSpec:
    match = SPEC.fullmatch(raw)
    size = int(match.group(2)) if match else 0
    if not match or not MIN_SIZE <= size <= MAX_SIZE:
        raise SpecError(f"Invalid thumb {raw!r}: use N, wN or hN with N from {MIN_SIZE} to {MAX_SIZE}")
    return ThumbSpec(match.group(1), size)  # type: ignore[arg-type]


def parse_time(raw: str | None) -> float:
    if raw is None:
        return DEFAULT_TIME
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_TIME:  # also refuses nan
        raise SpecError(f"Invalid time {raw!r}: seconds from 0 to {MAX_TIME:g}")
    return seconds
