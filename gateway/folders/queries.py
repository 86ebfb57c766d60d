"""The query strings of the folder files API, as models: the views parse
them with these and ``/openapi.json`` shows them. Defaults are upstream's;
lists page with ``after``/``before`` ids as letta-client's pagination does."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from ..http.wire import Wire
from .index import Order
from .models import parse_id
from .store import Duplicates

#: Largest page; a bigger ``limit`` gets this many and pagination goes on.
MAX_PAGE = 1000
#: Fewer digits than this in ``limit``: a page size, not a number to parse.
LIMIT_BOUND = 10**9


def id_schema(prefix: str) -> dict[str, Any]:
    """An id as ``parse_id`` takes it: ``<prefix>-<uuid>``."""
    return {"type": "string", "pattern": f"^{prefix}-[0-9a-fA-F-]{{36}}$", "examples": [f"{prefix}-<uuid4>"]}


def _canonical(prefix: str) -> AfterValidator:
    # parse_id refuses with the folder API's 422 itself, naming the id.
    return AfterValidator(lambda raw: parse_id(raw, prefix))


SourceId = Annotated[str, _canonical("source"), WithJsonSchema(id_schema("source"))]
FileId = Annotated[str, _canonical("file"), WithJsonSchema(id_schema("file"))]
PassageId = Annotated[str, _canonical("passage"), WithJsonSchema(id_schema("passage"))]


def _limit(default: int) -> Any:
    return Field(default, ge=1, lt=LIMIT_BOUND, description=f"Page size; more than {MAX_PAGE} gets {MAX_PAGE}")


class Page(Wire):
    limit: int = _limit(50)
    order: Order = Field("asc", description="By creation time")
    order_by: Literal["created_at"] = "created_at"
    #: Cursors: each list types them with the ids it lists.
    after: str | None = None
    before: str | None = None

    def page(self) -> dict[str, Any]:
        """The store's paging arguments."""
        return {"order": self.order, "limit": min(self.limit, MAX_PAGE), "after": self.after, "before": self.before}


class FolderPage(Page):
    after: SourceId | None = Field(None, description="Start after this folder")
    before: SourceId | None = Field(None, description="Stop before this folder")
    name: str | None = Field(None, description="Only the folder of this name")


class SourcePage(FolderPage):
    """The 0.x client lists sources without paging: the largest page by default."""

    limit: int = _limit(MAX_PAGE)


class PassagePage(Page):
    limit: int = _limit(100)
    after: PassageId | None = Field(None, description="Start after this passage")
    before: PassageId | None = Field(None, description="Stop before this passage")


class FileQuery(Wire):
    include_content: bool = Field(False, description="Include the extracted text")


class FilePage(Page, FileQuery):
    limit: int = _limit(MAX_PAGE)
    order: Order = Field("desc", description="By creation time")
    after: FileId | None = Field(None, description="Start after this file")
    before: FileId | None = Field(None, description="Stop before this file")
    # The 0.x client's sources listing asks for a status refresh from a
    # vector database; statuses here are always current.
    check_status_updates: bool = Field(True, description="Accepted; statuses are always current")


class MetadataQuery(Wire):
    include_detailed_per_source_metadata: bool = Field(
        False, description="Add each folder with its files (sources is [] otherwise)"
    )


class UploadQuery(Wire):
    duplicate_handling: Duplicates = Field(
        "suffix",
        description="When the folder holds a file of that name: keep it, 400, store as name_(N).ext, or replace it",
    )
    name: str | None = Field(None, description="File name, may be path-like (a/b.txt); else the part's filename")
