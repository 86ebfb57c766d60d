"""Query strings parsed with the pydantic models ``/openapi.json`` shows.

Unknown parameters are ignored; a repeated one counts by its first value,
as ``request.query.get`` reads it. A bad value is the family's 4xx (the
session API's 400 ``validation_error``, the folder API's 422), made by
``refuse`` from a message naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

Query = TypeVar("Query", bound=BaseModel)


def parse_query(request: web.Request, model: type[Query], refuse: Callable[[str], Exception]) -> Query:
    try:
        return model.model_validate({name: request.query[name] for name in request.query})
    except ValidationError as exc:
        raise refuse(_message(exc)) from None


def _message(exc: ValidationError) -> str:
    """The first error: a validator's own message where it raised one (it
    names the parameter and says what is allowed), pydantic's otherwise."""
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, ValueError):
        return str(cause)
    name = ".".join(str(part) for part in error["loc"][:1])
    return f"Query parameter {name}: {error['msg']}"
