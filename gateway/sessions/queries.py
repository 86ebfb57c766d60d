"""The query strings of the session API, as models: the views parse them
with these and ``/openapi.json`` shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

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
    ``sig`` are what the handed-out ``url`` carries. ``time`` is read only
    with ``thumb``, and ``exp`` only by the signed-link check, so a plain
    download ignores what they hold, as it always has."""

    @model_validator(mode="before")
    @classmethod
    def _time_with_thumb(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "thumb" not in data:
            return {name: value for name, value in data.items() if name != "time"}
        return data

    thumb: Thumb | None = Field(
        None, description=f"Thumbnail: N (in an NxN box), wN or hN, N from {MIN_SIZE} to {MAX_SIZE}"
    )
    time: Seconds = Field(DEFAULT_TIME, description="Video frame of the thumbnail, seconds (read only with thumb)")
    v: str | None = Field(None, description="The version a handed-out URL names: cached as immutable while current")
    exp: str | None = Field(None, description="Signed link: expiry, unix seconds (read by the link check alone)")
    sig: str | None = Field(None, description="Signed link: signature (opens this file without a key)")
