"""``X-Request-ID``: a well-formed one from the client (or its proxy) is kept,
otherwise one is made; either way it is returned and logged."""

from __future__ import annotations

import re
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

REQUEST_ID = web.RequestKey("request_id", str)
HEADER = "X-Request-ID"
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    offered = request.headers.get(HEADER, "")
    request[REQUEST_ID] = offered if ACCEPTED.fullmatch(offered) else uuid.uuid4().hex
    return await handler(request)


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, errors from aiohttp itself included."""
    if REQUEST_ID in request:
        response.headers[HEADER] = request[REQUEST_ID]
