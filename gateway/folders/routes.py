"""The folder API's operations, relative to the ``/v1`` prefix its app is
mounted at, under its name and its older one, ``sources`` (what letta-client
0.x calls, deprecated as upstream marks it): one set of handlers over the
same folders. Its router and its part of ``/openapi.json`` both come from here.

Create and list answer with and without the trailing slash (documented with
it, as upstream's document has them). The literal segments (``count``,
``metadata``, ``name``) come before the id routes, so that none is ever
taken for an id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs
from aiohttp.typedefs import Handler

from ..http.routes import REST, STATUS_TEXTS, Errors, Operation, Reply, RouteTable
from . import views
from .errors import FolderError
from .models import CreateFolder, FileMetadata, Folder, Passage, SourcesStats, UpdateFolder
from .queries import FilePage, FileQuery, FolderPage, MetadataQuery, PassagePage, SourcePage, UploadQuery, id_schema

FAMILIES = (("folders", "folder_id"), ("sources", "source_id"))
STRINGS = {"type": "array", "items": {"type": "string"}}
SKIPPED = {
    "X-Upload-Result": {
        "description": "Present when the upload was skipped as a duplicate",
        "schema": {"const": "skipped"},
    }
}


def _operations(family: str, param: str) -> list[Operation]:
    base, one = f"/{family}", f"/{family}/{{{param}}}"
    tags, file_tags = (family,), (f"{family} files",)
    deprecated = family == "sources"

    def op(
        method: str,
        path: str,
        handler: Handler,
        summary: str,
        replies: Mapping[int, Reply],
        name: str,
        tags: tuple[str, ...] = tags,
        **extra: Any,
    ) -> Operation:
        name = f"{family}-{name}"
        return Operation(method, path, handler, summary, replies, tags, name=name, deprecated=deprecated, **extra)

    folder = Reply("The folder", Folder)
    return [
        op(
            hdrs.METH_POST,
            f"{base}/",
            views.create_folder,
            "Create a folder",
            {200: folder},
            "collection",
            body=CreateFolder,
            errors=(400, 409, 415, 507),
            twins=(base,),
        ),
        op(
            hdrs.METH_GET,
            f"{base}/",
            views.list_folders if family == "folders" else views.list_sources,
            "List folders",
            {200: Reply("Folders", list[Folder])},
            "collection",
            query=FolderPage if family == "folders" else SourcePage,
            errors=(400, 422),
            twins=(base,),
        ),
        op(
            hdrs.METH_GET,
            f"{base}/count",
            views.count_folders,
            "Number of folders",
            {200: Reply("Count", {"type": "integer", "minimum": 0})},
            "count",
        ),
        op(
            hdrs.METH_GET,
            f"{base}/metadata",
            views.folders_metadata,
            "Folders, files and bytes in all (one listing per folder; file records read only when detailed)",
            {200: Reply("Totals", SourcesStats)},
            "metadata",
            query=MetadataQuery,
            errors=(422,),
        ),
        op(
            hdrs.METH_GET,
            f"{base}/name/{{folder_name:{REST}}}",
            views.folder_id_by_name,
            "The id of the folder of this name",
            {200: Reply("The folder id", {"type": "string"})},
            "by-name",
            errors=(404,),
        ),
        op(hdrs.METH_GET, one, views.get_folder, "Get a folder", {200: folder}, "one", errors=(404, 422)),
        op(
            hdrs.METH_PATCH,
            one,
            views.update_folder,
            "Update a folder",
            {200: folder},
            "one",
            body=UpdateFolder,
            errors=(400, 404, 409, 415, 422, 507),
        ),
        op(
            hdrs.METH_DELETE,
            one,
            views.delete_folder,
            "Delete a folder and its files",
            {200: Reply("Deleted", {"type": "null"})},
            "one",
            errors=(404, 422),
        ),
        op(
            hdrs.METH_GET,
            f"{one}/agents",
            views.list_agents,
            "Ids of the agents using a folder (none: the gateway keeps no agents)",
            {200: Reply("Agent ids", STRINGS)},
            "agents",
            errors=(404, 422),
        ),
        op(
            hdrs.METH_GET,
            f"{one}/passages",
            views.list_passages,
            "The folder's embedded passages: none, as the gateway embeds nothing without an embedder",
            {200: Reply("Passages", list[Passage])},
            "passages",
            query=PassagePage,
            errors=(404, 422),
        ),
        op(
            hdrs.METH_POST,
            f"{one}/upload",
            views.upload_file,
            "Upload a file (streamed) and queue it for processing",
            {
                200: Reply(
                    "Stored, or the existing file when duplicate_handling=skip kept it", FileMetadata, headers=SKIPPED
                )
            },
            "file-upload",
            tags=file_tags,
            query=UploadQuery,
            upload=True,
            errors=(400, 404, 408, 409, 413, 415, 422, 507),
        ),
        op(
            hdrs.METH_GET,
            f"{one}/files",
            views.list_files,
            "List a folder's files",
            {200: Reply("Files", list[FileMetadata])},
            "files",
            tags=file_tags,
            query=FilePage,
            errors=(400, 404, 422),
        ),
        op(
            hdrs.METH_GET,
            f"{one}/files/{{file_id}}",
            views.get_file,
            "Get a file's metadata",
            {200: Reply("The file", FileMetadata)},
            "file",
            tags=file_tags,
            query=FileQuery,
            errors=(404, 422),
        ),
        op(
            hdrs.METH_DELETE,
            f"{one}/{{file_id}}",
            views.delete_file,
            "Delete a file",
            {204: Reply("Deleted")},
            "file-delete",
            tags=file_tags,
            errors=(404, 422),
        ),
    ]


TABLE = RouteTable(
    [operation for family, param in FAMILIES for operation in _operations(family, param)],
    path_params={
        "folder_id": id_schema("source"),
        "source_id": id_schema("source"),
        "file_id": id_schema("file"),
        "folder_name": {"type": "string"},
    },
    errors=Errors(
        FolderError,
        {
            **STATUS_TEXTS,
            400: "Bad input: request body, pagination cursor, multipart body, file name or duplicate",
            401: "Missing or invalid API key",
            404: "Unknown folder or file",
            409: "Name conflict; retrying cannot help (x-should-retry: false)",
            415: "Unsupported file type, or a body that is not application/json",
            422: "Malformed id or query value",
        },
        always=(401, 403, 503),
        headers={
            409: {"x-should-retry": {"description": "Tells letta-client not to retry", "schema": {"const": "false"}}}
        },
    ),
)
