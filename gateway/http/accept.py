"""``Accept``-style headers: the weight a client gives each value."""

from __future__ import annotations


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
