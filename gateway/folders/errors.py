"""Letta's error format: ``{"detail": "<message>"}``.

letta-client retries 408, 409, 429 and 5xx unless told ``x-should-retry:
false``; a 409 here is a name conflict, which a retry cannot fix.
"""

from collections.abc import Mapping

from aiohttp import web

from ..http.wire import Wire


class FolderError(Wire):
    """The body of every error answer of the folder API."""

    detail: str


def render_error(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    if status == 401:
        message = "Unauthorized"
    if status == 409:
        headers = {**headers, "x-should-retry": "false"}
    return web.json_response(FolderError(detail=message).wire(), status=status, headers=headers)
