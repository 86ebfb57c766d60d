"""The query strings of the session API, as models: the views parse them
with these and ``/openapi.json`` shows them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PlainValidator, WithJsonSchema

from ..http.wire import Wire
from ..thumbnails.spec import DEFAULT_TIME, MAX_SIZE, MAX_TIME, MIN_SIZE, SPEC, ThumbSpec, parse_thumb, parse_time

Thumb = Annotated[
    ThumbSpec,
    PlainValidator(parse_thumb),
    WithJsonSchema({"type": "string", "pattern": f"^{SPEC.pattern}$"}),
]
Seconds = Annotated[
    float,
    PlainValidator(parse_time),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_TIME}),
]


class SessionsQuery(Wire):
    # Subagent sessions are made by the agent runtime, never through this
    # gateway, so the answer is the same either way; the flag is still checked.
    include_subagents: bool = Field(False, alias="includeSubagents")


class FileQuery(Wire):
    """A download, or with ``thumb`` its thumbnail; ``v``, ``exp`` and
    ``sig`` are what the handed-out ``url`` carries."""

    thumb: Thumb | None = Field(
        None, description=f"Thumbnail: N (in an NxN box), wN or hN, N from {MIN_SIZE} to {MAX_SIZE}"
    )
    time: Seconds = Field(DEFAULT_TIME, description="Video frame of the thumbnail, seconds")
    v: str | None = Field(None, description="The version a handed-out URL names: cached as immutable while current")
    exp: int | None = Field(None, description="Signed link: expiry, unix seconds")
    sig: str | None = Field(None, description="Signed link: signature (opens this file without a key)")
