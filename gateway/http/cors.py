"""CORS for both API families, and no writes from pages of other origins.

``cors_origins`` lists the origins whose pages may call the gateway (``*``:
any). For them, preflights are answered here, before the API families' key
check and whatever the route, and every response (errors included, so a page
can read them) carries ``Access-Control-Allow-Origin`` and the headers a page
needs to see. Bearer keys, not cookies, are the credentials, so no
``Access-Control-Allow-Credentials``.

A browser sends some writes without a preflight (a multipart form POST), so
withholding CORS headers alone would let any page on any origin write into a
gateway it can reach (one on localhost, say). Every state-changing request
whose ``Origin`` is neither allowed nor the gateway's own is refused with 403
in the family's format before it reaches a handler; requests without
``Origin`` (SDKs, curl) are not affected. The gateway's own origin is the
one its ``Host`` (or a trusted proxy's forwarded host) names, so this does
not stop DNS rebinding, where a hostile name resolves to the gateway's
address and is then its own origin to the browser as well: set API keys on
a gateway that pages of other sites could reach.

A small middleware of ours rather than aiohttp-cors: that library answers
preflights through OPTIONS routes it adds one by one, which the sub-apps' key
check answers 401 (a preflight carries no credentials), and it only withholds
headers from a refused origin, after its write has happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware
from yarl import URL

from .accept import vary
from .errors import ApiError

ALLOW_HEADERS = ", ".join(
    [
        "Authorization",
        "Content-Type",
        "Range",
        "If-Match",
        "If-None-Match",
        "If-Modified-Since",
        "If-Unmodified-Since",
        "If-Range",
        "X-Request-ID",
    ]
)
EXPOSE_HEADERS = ", ".join(
    [
        "ETag",
        "Last-Modified",
        "Content-Range",
        "Accept-Ranges",
        "Content-Disposition",
        "Content-Length",
        "Content-Encoding",
        "X-Request-ID",
        "X-Upload-Result",
        "Retry-After",
        "WWW-Authenticate",
    ]
)
#: Chromium caps a preflight's lifetime at two hours.
MAX_AGE = "7200"
WRITES = frozenset({hdrs.METH_POST, hdrs.METH_PUT, hdrs.METH_PATCH, hdrs.METH_DELETE})


def _origin(raw: str) -> str | None:
    """``raw`` as browsers compare origins (``http://a:80`` is ``http://a``)."""
    try:
        url = URL(raw)
        return str(url.origin()) if url.scheme in ("http", "https") and url.path in ("", "/") else None
    except ValueError:  # "null" (a sandboxed frame, a file), or not a URL at all
        return None


class CorsPolicy:
    """Which origins' pages may call the gateway."""

    def __init__(self, origins: Sequence[str]) -> None:
        self.any = tuple(origins) == ("*",)
        self.origins = frozenset(o for o in (_origin(raw) for raw in origins) if o is not None)

    @property
    def enabled(self) -> bool:
        return self.any or bool(self.origins)

    def allows(self, origin: str) -> bool:
        """A cross-origin caller configured in ``cors_origins``."""
        return self.any or _origin(origin) in self.origins

    def may_write(self, request: web.BaseRequest) -> bool:
        """Whether ``request`` may change anything, by its ``Origin``."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or request.method not in WRITES:
            return True
        return self.allows(origin) or _origin(origin) == str(request.url.origin())

    def middleware(self) -> Middleware:
        """Answer preflights of allowed origins, on every route, before the
        families' auth; anything else goes on to the router's answer."""

        @web.middleware
        async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
            origin = request.headers.get(hdrs.ORIGIN)
            asked = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD)
            allowed = getattr(getattr(request.match_info, "http_exception", None), "allowed_methods", None)
            if request.method != hdrs.METH_OPTIONS or origin is None or asked is None or not allowed:
                return await handler(request)
            if not self.allows(origin):
                return await handler(request)
            return web.Response(
                status=204,
                headers={
                    hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: "*" if self.any else origin,
                    hdrs.ACCESS_CONTROL_ALLOW_METHODS: ", ".join(sorted(allowed)),
                    hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOW_HEADERS,
                    hdrs.ACCESS_CONTROL_MAX_AGE: MAX_AGE,
                    hdrs.VARY: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                },
            )

        return preflight

    async def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """``on_response_prepare``: CORS headers on every answer to an allowed origin."""
        if hdrs.ACCESS_CONTROL_ALLOW_ORIGIN in response.headers:  # a preflight
            return
        if not self.any:
            vary(response.headers, hdrs.ORIGIN)
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and self.allows(origin):
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = "*" if self.any else origin
            response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSE_HEADERS

    def write_guard(self) -> Middleware:
        """Refuse writes from pages of origins not allowed: installed inside
        each family's app, so the 403 is in the family's format."""

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not self.may_write(request):
                raise ApiError(403, "Writes from pages of this origin are not allowed (see cors_origins)")
            return await handler(request)

        return guard
