"""JSON request bodies validated by a pydantic model."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

from .errors import ApiError, bad_request, invalid

Model = TypeVar("Model", bound=BaseModel)


async def read_json(request: web.Request, model: type[Model]) -> Model:
    """Parse the body as ``model``; 400 with a readable reason otherwise.

    Only ``application/json`` bodies (415 otherwise): a page of another
    origin can send a ``text/plain`` body without a preflight, never a JSON
    one, so no JSON write can reach a handler unannounced."""
    if request.content_type != "application/json":
        raise ApiError(415, f"Expected an application/json body, not {request.content_type}")
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError; too deep
        raise bad_request("Request body is not valid JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(f"Invalid request body: {describe(exc)}") from None


@web.middleware
async def identity_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request bodies as sent: no client of either API compresses them, and
    a body that claims a coding but is not in it would fail deep in a
    handler. 415 at the door instead."""
    coding = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
    if coding != "identity":
        raise ApiError(415, f"Content-Encoding {coding!r} is not accepted: send the body uncompressed")
    return await handler(request)


def describe(exc: ValidationError) -> str:
    """One line per problem: ``field: message``."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
