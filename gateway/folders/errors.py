"""Letta's error format: ``{"detail": "<message>"}``, and the status each
of the store's exceptions is answered with.

letta-client retries 408, 409, 429 and 5xx unless told ``x-should-retry:
false``; a 409 here is a name conflict, which a retry cannot fix.
"""

from collections.abc import Mapping

from aiohttp import web

from ..http.errors import DomainErrors
from ..http.wire import Wire
from .exceptions import BadCursor, DuplicateName, FileNotFound, FolderNotFound, InvalidId, NameTaken, TooManyCopies


class FolderError(Wire):
    """The body of every error answer of the folder API."""

    detail: str


#: Upstream's statuses: an unknown id is a 422 of its validation, a file
#: uploaded twice in ``error`` mode a 400.
DOMAIN_ERRORS: DomainErrors = {
    FolderNotFound: (404, ""),
    FileNotFound: (404, ""),
    NameTaken: (409, ""),
    TooManyCopies: (409, ""),
    DuplicateName: (400, "bad_request"),
    BadCursor: (400, "bad_request"),
    InvalidId: (422, ""),
}


def render_error(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    if status == 401:
        message = "Unauthorized"
    if status == 409:
        headers = {**headers, "x-should-retry": "false"}
    return web.json_response(FolderError(detail=message).wire(), status=status, headers=headers)
