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
from .sessions.models import CreateSession, FileInfo, Session

REF = "#/components/schemas/{model}"
SESSION_ERRORS = {
    "400": "Bad input (validation_error or bad_request)",
    "401": "Missing or invalid API key",
    "404": "Unknown session or file",
    "503": "Storage unavailable; retry after Retry-After seconds",
}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True, ref_template=REF)


def _json(ref: str, *, array: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": REF.format(model=ref)}
    return {"application/json": {"schema": {"type": "array", "items": schema} if array else schema}}


def _operation(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    errors = {code: {"description": text, "content": _json("Error")} for code, text in SESSION_ERRORS.items()}
    return {"summary": summary, "responses": {**responses, **errors}, **extra}


SESSION_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
FILENAME = {"name": "filename", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 255}}
OPEN = {"security": []}
TEXT = {"text/plain": {"schema": {"type": "string"}}}
STATUS = {"application/json": {"schema": {"type": "object"}}}


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (CreateSession, Session, FileInfo):
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
    file_download = {
        "200": {"description": "The file (Range, ETag and conditional requests supported)"},
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
                    "responses": {"200": {"description": "metrics", "content": TEXT}},
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
                    {"201": {"description": "Created", "content": _json("Session")}},
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
                        "413": {"description": "Too large", "content": _json("Error")},
                    },
                    requestBody={
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
                    },
                ),
            },
            "/api/sessions/{id}/files/{filename}": {
                "parameters": [SESSION_ID, FILENAME],
                "get": _operation("Download a file", file_download),
                "head": _operation("A file's headers", file_download),
                "delete": _operation("Delete a file", {"204": {"description": "Deleted"}}),
            },
        },
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())
