"""Optional API keys: ``Authorization: Bearer <key>`` on every route of the
app this middleware is installed in (health checks live outside it), or a
signed link where the family accepts one."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection, Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from .errors import ApiError

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}
MISSING_KEY = "Missing or invalid API key"


def has_key(request: web.Request, keys: Sequence[str]) -> bool:
    """Whether the request presents one of ``keys`` as a bearer token."""
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    presented = token.strip().encode()
    # Compare against every key so the timing tells nothing of which matched.
    matches = [hmac.compare_digest(presented, key.encode()) for key in keys]
    return scheme.lower() == "bearer" and any(matches)


def auth_middleware(keys: Sequence[str], opened_by_link: Callable[[web.Request], bool] | None = None) -> Middleware:
    """``opened_by_link``, when given, lets in what a signed link opens
    (see ``signing.py``), for tags that cannot send a header."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not has_key(request, keys) and not (opened_by_link and opened_by_link(request)):
            raise ApiError(401, MISSING_KEY, kind="unauthorized", headers=UNAUTHORIZED_HEADERS)
        return await handler(request)

    return middleware


def path_guard(keys: Sequence[str], paths: Collection[str]) -> Middleware:
    """The key on ``paths`` of the root app, outside every family, before
    routing: so that another method is a plain-text 401 too, not a 405 that
    answers before the key is asked."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if keys and request.path in paths and not has_key(request, keys):
            return web.Response(status=401, text=f"{MISSING_KEY}\n", headers=UNAUTHORIZED_HEADERS)
        return await handler(request)

    return guard
