"""The thumb and time parameters, and upstream's rounding."""

from __future__ import annotations

import pytest

from gateway.thumbnails.spec import SpecError, ThumbSpec, parse_thumb, parse_time


@pytest.mark.parametrize(
    ("raw", "size", "expected"),
    [
        ("100", (400, 300), (100, 75)),
        ("100", (300, 400), (75, 100)),
        ("w100", (300, 400), (100, 133)),
        ("h100", (400, 300), (133, 100)),
        ("w16", (10000, 10), (16, 1)),  # at least 1
        ("1024", (10, 10), (1024, 1024)),
        ("h50", (3, 2), (75, 50)),
    ],
)
def test_targets(raw: str, size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert parse_thumb(raw).target(*size) == expected


def test_spec_round_trips_as_text() -> None:
    assert [str(parse_thumb(raw)) for raw in ("100", "w16", "h1024")] == ["100", "w16", "h1024"]
    assert parse_thumb("w100") == ThumbSpec("w", 100)


@pytest.mark.parametrize("raw", ["", "15", "1025", "x100", "W100", "w", "100px", "-100", "w 100", "1e2", "99999"])
def test_bad_thumbs(raw: str) -> None:
    with pytest.raises(SpecError, match="Invalid thumb"):
        parse_thumb(raw)


@pytest.mark.parametrize(("raw", "seconds"), [(None, 1.0), ("0", 0.0), ("2.5", 2.5), ("86400", 86400.0)])
def test_times(raw: str | None, seconds: float) -> None:
    assert parse_time(raw) == seconds


@pytest.mark.parametrize("raw", ["-1", "86400.5", "nan", "inf", "soon", ""])
def test_bad_times(raw: str) -> None:
    with pytest.raises(SpecError, match="Invalid time"):
        parse_time(raw)
