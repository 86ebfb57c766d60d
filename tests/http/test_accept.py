"""Content negotiation (``accept.py``): the weights of an ``Accept``-style
header, and one ``Vary`` header naming each header a response chose by."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from gateway.http.accept import vary, weights


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, br;q=0.5", {"gzip": 1.0, "br": 0.5}),
        ("GZIP;Q=0.2", {"gzip": 0.2}),  # names and parameters are case-insensitive (RFC 9110)
        ("gzip;q=0.2", {"gzip": 0.2}),
        ("br;q=x, gzip", {"br": 0.0, "gzip": 1.0}),
        ("identity; q=0 , *", {"identity": 0.0, "*": 1.0}),
        ("br;level=5;q=0.7", {"br": 0.7}),
        (",, ;q=1,", {}),
        ("", {}),
        (None, {}),
    ],
)
def test_weights(header: str | None, expected: dict[str, float]) -> None:
    assert weights(header) == expected


def test_vary_names_each_header_once() -> None:
    headers: CIMultiDict[str] = CIMultiDict()
    vary(headers, "Accept-Encoding")
    assert headers["Vary"] == "Accept-Encoding"
    vary(headers, "accept-encoding")
    vary(headers, "Origin")
    assert headers.getall("Vary") == ["Accept-Encoding, Origin"]
    kept: CIMultiDict[str] = CIMultiDict({"Vary": "Origin , "})
    vary(kept, "Accept-Encoding")
    assert kept["Vary"] == "Origin, Accept-Encoding"
