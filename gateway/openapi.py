"""``GET /openapi.json``: an OpenAPI 3.1 description of what we serve.

Paths are kept by hand beside the routes (``tests/test_openapi.py`` checks
that both list the same routes and methods); schemas come from the pydantic
wire models, so they cannot drift from what the views send.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from . import __version__
from .folders.models import CreateFolder, FileMetadata, Folder, Passage, SourcesStats, UpdateFolder
from .folders.routes import FAMILIES
from .folders.views import MAX_PAGE
from .sessions.models import CreateSession, FileInfo, Session

REF = "#/components/schemas/{model}"
UNAVAILABLE = "Storage unavailable; retry after Retry-After seconds"
FOREIGN_WRITE = "A write from a page of an origin not in cors_origins"
SESSION_ERRORS = {
    "400": "Bad input (validation_error or bad_request)",
    "401": "Missing or invalid API key, or an expired or tampered signed link",
    "403": FOREIGN_WRITE,
    "404": "Unknown session or file",
    "503": UNAVAILABLE,
}
#: An upload whose body stopped coming for ``body_timeout``; nothing stored.
SLOW_BODY = "The body stopped coming (body_timeout); nothing was stored"
#: Every folder operation may answer 401 (with API keys configured) and 503;
#: ``_folder_operation`` adds the other codes an operation can answer.
FOLDER_ERRORS = {
    "400": "Bad input: request body, pagination cursor, multipart body, file name or duplicate",
    "401": "Missing or invalid API key",
    "403": FOREIGN_WRITE,
    "404": "Unknown folder or file",
    "408": SLOW_BODY,
    "409": "Name conflict; retrying cannot help (x-should-retry: false)",
    "413": "Too large",
    "415": "Unsupported file type, or a body that is not application/json",
    "422": "Malformed id or query value",
    "503": UNAVAILABLE,
}
NO_RETRY = {"x-should-retry": {"description": "Tells letta-client not to retry", "schema": {"const": "false"}}}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True, ref_template=REF)


def _json(ref: str, *, array: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": REF.format(model=ref)}
    return {"application/json": {"schema": {"type": "array", "items": schema} if array else schema}}


def _operation(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    errors = {code: {"description": text, "content": _json("Error")} for code, text in SESSION_ERRORS.items()}
    return {"summary": summary, "responses": {**responses, **errors}, **extra}


def _folder_operation(summary: str, responses: dict[str, Any], codes: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    errors = {
        code: {"description": FOLDER_ERRORS[code], "content": _json("FolderError")}
        | ({"headers": NO_RETRY} if code == "409" else {})
        for code in sorted({"401", "403", "503", *codes})
    }
    return {"summary": summary, "responses": {**responses, **errors}, **extra}


def _query(name: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema} | ({"description": description} if description else {})


def _id(name: str, prefix: str, where: str = "path") -> dict[str, Any]:
    schema = {"type": "string", "pattern": f"^{prefix}-[0-9a-fA-F-]{{36}}$", "examples": [f"{prefix}-<uuid4>"]}
    return {"name": name, "in": where, "schema": schema} | ({"required": True} if where == "path" else {})


def _page(prefix: str, limit: int, order: str) -> list[dict[str, Any]]:
    """The pagination parameters of a list (``views._page``)."""
    return [
        _id("after", prefix, "query") | {"description": "Start after this item"},
        _id("before", prefix, "query") | {"description": "Stop before this item"},
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "default": limit},
            f"Page size; more than {MAX_PAGE} gets {MAX_PAGE}",
        ),
        _query("order", {"enum": ["asc", "desc"], "default": order}, "By creation time"),
        _query("order_by", {"enum": ["created_at"], "default": "created_at"}),
    ]


SESSION_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
FILENAME = {"name": "filename", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 255}}
FILE_ID = _id("file_id", "file")
INCLUDE_CONTENT = _query("include_content", {"type": "boolean", "default": False}, "Include the extracted text")
UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}
FILE_QUERY = [
    _query("thumb", {"type": "string", "pattern": "^[wh]?[0-9]{1,4}$"}, "Thumbnail: N (in an NxN box), wN or hN"),
    _query("time", {"type": "number", "minimum": 0, "maximum": 86400, "default": 1.0}, "Video frame, seconds"),
    _query("v", {"type": "string"}, "The version a handed-out URL names: cached as immutable while current"),
    _query("exp", {"type": "integer"}, "Signed link: expiry, unix seconds"),
    _query("sig", {"type": "string"}, "Signed link: signature (opens this file without a key)"),
]
OPEN: dict[str, list[Any]] = {"security": []}
TEXT = {"text/plain": {"schema": {"type": "string"}}}
STATUS = {"application/json": {"schema": {"type": "object"}}}
INTEGER = {"application/json": {"schema": {"type": "integer", "minimum": 0}}}


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (
        CreateSession,
        Session,
        FileInfo,
        CreateFolder,
        UpdateFolder,
        Folder,
        FileMetadata,
        SourcesStats,
        Passage,
    ):
        schema = _schema(model)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "type"],
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "type": {
                        "enum": ["bad_request", "not_found", "internal_error", "unauthorized", "validation_error"]
                    },
                },
            }
        },
    }
    schemas["FolderError"] = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}
    file_download = {
        "200": {
            "description": "The file (Range, ETag and conditional requests supported), or with thumb= its "
            "thumbnail: WebP when Accept lists image/webp, else JPEG (Vary: Accept)",
            # The file's own type, by its name; a thumbnail's is one of the two.
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("*/*", "image/jpeg", "image/webp")
            },
        },
        "206": {"description": "The requested byte range"},
        "304": {"description": "Not modified"},
        "416": {"description": "Range not satisfiable", "content": _json("Error")},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "File gateway", "version": __version__},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/health": {
                "get": {
                    "summary": "The process answers",
                    **OPEN,
                    "responses": {"200": {"description": "ok", "content": STATUS}},
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness", **OPEN, "responses": {"200": {"description": "ok", "content": STATUS}}}
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: the storage answers and the gateway is not draining",
                    **OPEN,
                    "responses": {
                        "200": {"description": "ready", "content": STATUS},
                        "503": {"description": "not ready", "content": STATUS},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {"description": "metrics", "content": TEXT},
                        "401": {"description": "Missing or invalid API key", "content": TEXT},
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    **OPEN,
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": STATUS}},
                }
            },
            "/api/sessions": {
                "get": _operation(
                    "List sessions, newest first",
                    {"200": {"description": "Sessions", "content": _json("Session", array=True)}},
                    parameters=[{"name": "includeSubagents", "in": "query", "schema": {"type": "boolean"}}],
                ),
                "post": _operation(
                    "Create a session",
                    {
                        "201": {"description": "Created", "content": _json("Session")},
                        "415": {"description": "Not an application/json body", "content": _json("Error")},
                    },
                    requestBody={"required": True, "content": _json("CreateSession")},
                ),
            },
            "/api/sessions/{id}": {
                "parameters": [SESSION_ID],
                "get": _operation(
                    "Get a session", {"200": {"description": "The session", "content": _json("Session")}}
                ),
                "delete": _operation("Delete a session and its files", {"204": {"description": "Deleted"}}),
            },
            "/api/sessions/{id}/files": {
                "parameters": [SESSION_ID],
                "get": _operation(
                    "List a session's files",
                    {"200": {"description": "Files", "content": _json("FileInfo", array=True)}},
                ),
            },
            "/api/sessions/{id}/files/upload": {
                "parameters": [SESSION_ID],
                "post": _operation(
                    "Upload a file (streamed; replaces a file of the same name)",
                    {
                        "201": {"description": "Stored", "content": _json("FileInfo")},
                        "408": {"description": SLOW_BODY, "content": _json("Error")},
                        "413": {"description": "Too large", "content": _json("Error")},
                    },
                    requestBody=UPLOAD,
                ),
            },
            "/api/sessions/{id}/files/{filename}": {
                "parameters": [SESSION_ID, FILENAME],
                "get": _operation("Download a file or its thumbnail", file_download, parameters=FILE_QUERY),
                "head": _operation("A file's headers", file_download, parameters=FILE_QUERY),
                "delete": _operation("Delete a file", {"204": {"description": "Deleted"}}),
            },
            **_folder_paths(),
        },
    }


def _folder_paths() -> dict[str, Any]:
    """The folder files API (Letta), mounted at ``/v1``, under both its names
    (``sources`` deprecated, as upstream); its errors are ``FolderError``."""
    paths: dict[str, Any] = {}
    for family, param in FAMILIES:
        for path, item in _family_paths(family, param).items():
            if family == "sources":
                item = {k: v | {"deprecated": True} if k != "parameters" else v for k, v in item.items()}
            paths[path] = item
    return paths


def _family_paths(family: str, param: str) -> dict[str, Any]:
    folder_id = _id(param, "source")
    base, one = f"/v1/{family}", f"/v1/{family}/{{{param}}}"
    folder = {"description": "The folder", "content": _json("Folder")}
    default_limit = 50 if family == "folders" else MAX_PAGE
    folders = {
        "get": _folder_operation(
            "List folders",
            {"200": {"description": "Folders", "content": _json("Folder", array=True)}},
            ("400", "422"),
            parameters=[
                *_page("source", default_limit, "asc"),
                _query("name", {"type": "string"}, "Only the folder of this name"),
            ],
        ),
        "post": _folder_operation(
            "Create a folder",
            {"200": folder},
            ("400", "409", "415"),
            requestBody={"required": True, "content": _json("CreateFolder")},
        ),
    }
    return {
        base: folders,
        f"{base}/": folders,
        f"{base}/count": {
            "get": _folder_operation("Number of folders", {"200": {"description": "Count", "content": INTEGER}}, ())
        },
        f"{base}/metadata": {
            "get": _folder_operation(
                "Folders, files and bytes in all (one listing per folder; file records read only when detailed)",
                {"200": {"description": "Totals", "content": _json("SourcesStats")}},
                ("422",),
                parameters=[
                    _query(
                        "include_detailed_per_source_metadata",
                        {"type": "boolean", "default": False},
                        "Add each folder with its files (sources is [] otherwise)",
                    )
                ],
            )
        },
        f"{base}/name/{{folder_name}}": {
            "parameters": [{"name": "folder_name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": _folder_operation(
                "The id of the folder of this name",
                {
                    "200": {
                        "description": "The folder id",
                        "content": {"application/json": {"schema": {"type": "string"}}},
                    }
                },
                ("404",),
            ),
        },
        one: {
            "parameters": [folder_id],
            "get": _folder_operation("Get a folder", {"200": folder}, ("404", "422")),
            "patch": _folder_operation(
                "Update a folder",
                {"200": folder},
                ("400", "404", "409", "415", "422"),
                requestBody={"required": True, "content": _json("UpdateFolder")},
            ),
            "delete": _folder_operation(
                "Delete a folder and its files",
                {"200": {"description": "Deleted", "content": {"application/json": {"schema": {"type": "null"}}}}},
                ("404", "422"),
            ),
        },
        f"{one}/agents": {
            "parameters": [folder_id],
            "get": _folder_operation(
                "Ids of the agents using a folder (none: the gateway keeps no agents)",
                {
                    "200": {
                        "description": "Agent ids",
                        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
                    }
                },
                ("404", "422"),
            ),
        },
        f"{one}/passages": {
            "parameters": [folder_id],
            "get": _folder_operation(
                "The folder's embedded passages: none, as the gateway embeds nothing without an embedder",
                {"200": {"description": "Passages", "content": _json("Passage", array=True)}},
                ("404", "422"),
                parameters=_page("passage", 100, "asc"),
            ),
        },
        f"{one}/upload": {
            "parameters": [folder_id],
            "post": _folder_operation(
                "Upload a file (streamed) and queue it for processing",
                {
                    "200": {
                        "description": "Stored, or the existing file when duplicate_handling=skip kept it",
                        "content": _json("FileMetadata"),
                        "headers": {
                            "X-Upload-Result": {
                                "description": "Present when the upload was skipped as a duplicate",
                                "schema": {"const": "skipped"},
                            }
                        },
                    }
                },
                ("400", "404", "408", "409", "413", "415", "422"),
                parameters=[
                    _query(
                        "duplicate_handling",
                        {"enum": ["skip", "error", "suffix", "replace"], "default": "suffix"},
                        "When the folder holds a file of that name: keep it, 400, store as name_(N).ext, or replace it",
                    ),
                    _query("name", {"type": "string", "maxLength": 1024}, "File name, may be path-like (a/b.txt)"),
                ],
                requestBody=UPLOAD,
            ),
        },
        f"{one}/files": {
            "parameters": [folder_id],
            "get": _folder_operation(
                "List a folder's files",
                {"200": {"description": "Files", "content": _json("FileMetadata", array=True)}},
                ("400", "404", "422"),
                parameters=[
                    *_page("file", MAX_PAGE, "desc"),
                    INCLUDE_CONTENT,
                    _query("check_status_updates", {"type": "boolean", "default": True}, "Accepted; always current"),
                ],
            ),
        },
        f"{one}/files/{{file_id}}": {
            "parameters": [folder_id, FILE_ID],
            "get": _folder_operation(
                "Get a file's metadata",
                {"200": {"description": "The file", "content": _json("FileMetadata")}},
                ("404", "422"),
                parameters=[INCLUDE_CONTENT],
            ),
        },
        f"{one}/{{file_id}}": {
            "parameters": [folder_id, FILE_ID],
            "delete": _folder_operation("Delete a file", {"204": {"description": "Deleted"}}, ("404", "422")),
        },
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())
