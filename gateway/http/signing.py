"""Signed links: URLs that open one file without a header, for a while.

``<img>`` and ``<video>`` cannot send ``Authorization``, so when API keys
are set, the file URLs the gateway hands out carry ``exp`` (unix seconds)
and ``sig``: an HMAC-SHA256 (first 128 bits, base64url) over the expiry and
what the link opens, a *target* string naming one file of one session and
nothing else. Other query parameters (``thumb``, ``time``, ``v``) are not
signed: they choose a view of that same file.

Keys: ``url_signing_key`` (several for rotation: the first signs, all
verify); without it, one key derived from each API key (HMAC of a fixed
label), so replicas sharing the API keys share the links, and a link stops
working when the API key it was derived from is removed.

Expiries are rounded up to a quarter of ``url_ttl``: a link works for
between ``url_ttl`` and 1.25 × ``url_ttl`` seconds, and the links handed out
within one quarter are the same URL, which a browser's cache recognises.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence

from aiohttp import hdrs, web

from .auth import UNAUTHORIZED_HEADERS
from .errors import ApiError

DERIVATION_LABEL = b"file-gateway signed links v1"
MAX_EXP_DIGITS = 12


class LinkSigner:
    def __init__(self, keys: Sequence[bytes], ttl: int, clock: Callable[[], float] = time.time) -> None:
        self._keys = tuple(keys)
        self._ttl = ttl
        self._step = max(1, ttl // 4)
        self._clock = clock

    @classmethod
    def from_keys(cls, signing_keys: Sequence[str], api_keys: Sequence[str], ttl: int) -> LinkSigner:
        """Signing keys as configured, else derived from the API keys; none
        (no links signed) when the gateway has no API keys."""
        if not api_keys:
            return cls((), ttl)
        if signing_keys:
            return cls([key.encode() for key in signing_keys], ttl)
        return cls([hmac.digest(key.encode(), DERIVATION_LABEL, "sha256") for key in api_keys], ttl)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def sign(self, target: str) -> dict[str, str]:
        """The query parameters that let a link open ``target``; none when
        links need no signature."""
        if not self._keys:
            return {}
        exp = -(-(int(self._clock()) + self._ttl) // self._step) * self._step  # rounded up
        return {"exp": str(exp), "sig": _signature(self._keys[0], target, str(exp))}

    def valid(self, target: str, exp: str, sig: str) -> bool:
        if not (exp.isascii() and exp.isdigit() and len(exp) <= MAX_EXP_DIGITS) or int(exp) < self._clock():
            return False
        presented = sig.encode()
        # Compare with every key, so the timing tells nothing of which matched.
        matches = [hmac.compare_digest(presented, _signature(key, target, exp).encode()) for key in self._keys]
        return any(matches)


LINKS = web.AppKey("links", LinkSigner)


def _signature(key: bytes, target: str, exp: str) -> str:
    digest = hmac.digest(key, f"{exp}\n{target}".encode(), hashlib.sha256)[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_check(signer: LinkSigner, target_of: Callable[[web.Request], str | None]) -> Callable[[web.Request], bool]:
    """For the auth middleware: whether the request is let in by its signed
    link. ``target_of`` names what a GET or HEAD of the matched route opens
    (None: no link opens it). A link presented but expired, tampered with or
    for something else is a 401 that says so."""

    def check(request: web.Request) -> bool:
        exp, sig = request.query.get("exp"), request.query.get("sig")
        if exp is None and sig is None:
            return False
        target = target_of(request) if request.method in (hdrs.METH_GET, hdrs.METH_HEAD) else None
        if target is None or exp is None or sig is None or not signer.valid(target, exp, sig):
            raise ApiError(
                401, "The link has expired or does not open this", kind="unauthorized", headers=UNAUTHORIZED_HEADERS
            )
        return True

    return check
