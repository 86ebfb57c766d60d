"""Optional API keys: ``Authorization: Bearer <key>`` on every route of the
app this middleware is installed in (health checks live outside it)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from .errors import ApiError


def auth_middleware(keys: Sequence[str]) -> Middleware:
    encoded = [key.encode() for key in keys]

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        presented = token.strip().encode()
        # Compare against every key so the timing tells nothing of which matched.
        matches = [hmac.compare_digest(presented, key) for key in encoded]
        if scheme.lower() != "bearer" or not any(matches):
            raise ApiError(
                401, "Missing or invalid API key", kind="unauthorized", headers={"WWW-Authenticate": "Bearer"}
            )
        return await handler(request)

    return middleware
