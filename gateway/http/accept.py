"""Content negotiation: the weight a client gives each value of an
``Accept``-style header, and the ``Vary`` that says a response chose."""

from __future__ import annotations

from collections.abc import MutableMapping

from aiohttp import hdrs


def weights(header: str | None) -> dict[str, float]:
    """``{"gzip": 1.0, "br": 0.5}`` for ``gzip, br;q=0.5``: values lower-cased,
    1 where no ``q`` is given, 0 where it cannot be read."""
    found: dict[str, float] = {}
    for item in (header or "").lower().split(","):
        value, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, number = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(number)
                except ValueError:
                    weight = 0.0
        if value:
            found[value] = weight
    return found


def vary(headers: MutableMapping[str, str], name: str) -> None:
    """Add ``name`` to the one ``Vary`` header of a response."""
    present = [item.strip() for item in headers.get(hdrs.VARY, "").split(",") if item.strip()]
    if name.lower() not in (item.lower() for item in present):
        headers[hdrs.VARY] = ", ".join([*present, name])
