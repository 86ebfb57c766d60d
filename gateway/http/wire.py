"""The base of every wire model: the JSON bodies both API families read and
write, and the query strings they parse."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class Wire(BaseModel):
    """``wire()`` is what a model answers with: its aliases as field names,
    and fields left out when None where the family's client reads a missing
    field as None (``omit_none``: the Mix client; Letta's sends and expects
    explicit nulls)."""

    omit_none: ClassVar[bool] = False

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=self.omit_none)
