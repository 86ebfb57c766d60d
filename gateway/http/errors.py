"""One exception for every client error, rendered by each API family in its
own format by the middleware that family installs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from backends import StorageFull, StorageUnavailable

log = logging.getLogger(__name__)

#: What a client is told to wait when the storage is down.
RETRY_AFTER_SECONDS = 5
#: ... and when it is full: freeing space takes someone a while.
FULL_RETRY_AFTER_SECONDS = 60

#: Renders (status, message, kind, headers) as a family's error response.
Renderer = Callable[[int, str, str, Mapping[str, str]], web.Response]
#: A family's domain exceptions (raised by its stores, message in ``str()``)
#: and the (status, kind) each is answered with; a subclass not listed gets
#: its nearest listed base's.
DomainErrors = Mapping[type[Exception], tuple[int, str]]
NO_DOMAIN_ERRORS: DomainErrors = MappingProxyType({})


class ApiError(Exception):
    """A request the gateway refuses, with the status and message to send.

    ``kind`` refines the status where a family distinguishes causes: the
    session API tells "validation_error" from "bad_request".
    """

    def __init__(self, status: int, message: str, *, kind: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, kind="bad_request")


def invalid(message: str) -> ApiError:
    return ApiError(400, message, kind="validation_error")


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def error_middleware(
    render: Renderer,
    domain_errors: DomainErrors = NO_DOMAIN_ERRORS,
    on_unavailable: Callable[[], object] = lambda: None,
    on_full: Callable[[], object] = lambda: None,
) -> Middleware:
    """Turn every error raised below into ``render``'s format.

    The family's ``domain_errors`` get the status they are mapped to;
    aiohttp's own HTTP exceptions (no route, wrong method, body too large)
    are rendered the same way; an unavailable storage is a 503 with
    ``Retry-After``, a full one a 507 with ``Retry-After``; anything
    unexpected becomes a logged 500.
    """

    domain = tuple(domain_errors)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return render(exc.status, exc.message, exc.kind, exc.headers)
        except domain as exc:
            status, kind = next(domain_errors[t] for t in type(exc).__mro__ if t in domain_errors)
            return render(status, str(exc), kind, {})
        except StorageUnavailable as exc:
            on_unavailable()
            log.warning("storage unavailable in %s %s: %s", request.method, request.path, exc)
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return render(503, "Storage is unavailable; try again shortly", "", headers)
        except StorageFull as exc:
            on_full()
            log.warning("storage full in %s %s: %s", request.method, request.path, exc)
            headers = {"Retry-After": str(FULL_RETRY_AFTER_SECONDS)}
            return render(507, "Storage is full; nothing was stored. Try again once space is freed", "", headers)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return rendered(render, exc)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            return render(500, "Internal server error", "", {})

    return middleware


def unrouted_middleware(families: Mapping[str, Renderer]) -> Middleware:
    """aiohttp's own errors for requests no family's app was reached for (a
    method the router cannot match, such as CONNECT), rendered in the format
    of the family whose prefix the path has (``{"/api/": render, ...}``)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            # raw_path: aiohttp reads a CONNECT target as an authority, leaving path empty.
            render = next((r for prefix, r in families.items() if request.raw_path.startswith(prefix)), None)
            if exc.status < 400 or render is None:
                raise
            return rendered(render, exc)

    return middleware


def rendered(render: Renderer, exc: web.HTTPException) -> web.Response:
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
    return render(exc.status, _message(exc), "", headers)


def _message(exc: web.HTTPException) -> str:
    """aiohttp's own text when it says more than "404: Not Found"."""
    if exc.text and exc.text != f"{exc.status}: {exc.reason}":
        return exc.text
    return exc.reason
