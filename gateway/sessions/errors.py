"""The Mix error format: ``{"error": {"code", "message", "type"}}``, and
the status each of the store's exceptions is answered with.

The official client parses only the five ``type`` values of ``ErrorType``;
any other value breaks it, so every status maps onto one of them.
"""

from collections.abc import Mapping
from typing import Literal, cast, get_args

from aiohttp import web

from ..http.errors import DomainErrors
from ..http.wire import Wire
from .exceptions import InvalidSessionId, SessionNotFound

DOMAIN_ERRORS: DomainErrors = {SessionNotFound: (404, ""), InvalidSessionId: (400, "validation_error")}

ErrorType = Literal["bad_request", "not_found", "internal_error", "unauthorized", "validation_error"]
TYPES: Mapping[int, ErrorType] = {401: "unauthorized", 404: "not_found"}


class ErrorDetail(Wire):
    code: int
    message: str
    type: ErrorType


class Error(Wire):
    """The body of every error answer of the session API."""

    error: ErrorDetail


def render_error(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    error_type: ErrorType
    if status >= 500:
        error_type = "internal_error"
    elif kind in get_args(ErrorType) and kind != "internal_error":
        error_type = cast(ErrorType, kind)
    else:
        error_type = TYPES.get(status, "bad_request")
    body = Error(error=ErrorDetail(code=status, message=message, type=error_type))
    return web.json_response(body.wire(), status=status, headers=headers)
