"""The Mix error format: ``{"error": {"code", "message", "type"}}``, and
the status each of the store's exceptions is answered with.

The official client parses only the five ``type`` values below; any other
value breaks it, so every status maps onto one of them.
"""

from collections.abc import Mapping

from aiohttp import web

from ..http.errors import DomainErrors
from .exceptions import InvalidSessionId, SessionNotFound

DOMAIN_ERRORS: DomainErrors = {SessionNotFound: (404, ""), InvalidSessionId: (400, "validation_error")}

TYPES = {401: "unauthorized", 404: "not_found"}


def render_error(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    if status >= 500:
        error_type = "internal_error"
    elif kind in ("bad_request", "validation_error", "unauthorized", "not_found"):
        error_type = kind
    else:
        error_type = TYPES.get(status, "bad_request")
    body = {"error": {"code": status, "message": message, "type": error_type}}
    return web.json_response(body, status=status, headers=headers)
