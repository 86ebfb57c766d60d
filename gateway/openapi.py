"""``GET /openapi.json``: an OpenAPI 3.1 description of what we serve,
derived from the route tables the routers were built from.

As starlette's ``SchemaGenerator`` walks its routes, ``document`` walks the
app and its mounted family apps, and renders each one's ``RouteTable``
(``gateway/http/routes.py``): paths, path parameters, query parameters from
the query models the views parse with, bodies and answers from the wire
models, the family's error answers. ``tests/test_openapi.py`` checks the
document against the router and the handlers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel

from . import __version__
from .http.routes import ROUTES, Errors, Operation, Reply, RouteTable

REF = "#/components/schemas/{model}"
#: A route template's parameter, with aiohttp's regex if it has one.
PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
TAGS = {
    "health": "Liveness and readiness; no API key",
    "operations": "Metrics",
    "documentation": "This document and its human view",
    "sessions": "Mix agent runtime sessions",
    "session files": "A session's files and their thumbnails",
    "folders": "Letta folders",
    "folders files": "A folder's files, processed into chunks",
    "sources": "Letta folders under their older name (letta-client 0.x)",
    "sources files": "A folder's files under the older name",
}
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


def document(app: web.Application, origin: str) -> dict[str, Any]:
    """The document of ``app`` and the apps mounted in it, as served at
    ``origin`` (the base URL the client sees, forwarded headers honoured)."""
    models: dict[str, type[BaseModel]] = {}
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for prefix, table in _tables(app):
        by_path: dict[str, list[Operation]] = {}
        for op in table.operations:
            by_path.setdefault(op.path, []).append(op)
            tags.update(dict.fromkeys(op.tags))
        for path, ops in by_path.items():
            paths[prefix + PARAM.sub(r"{\1}", path)] = _path_item(path, ops, table, models)
    schemas: dict[str, Any] = {}
    for name, model in models.items():
        schema = model.model_json_schema(by_alias=True, ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "File gateway", "version": __version__},
        "servers": [{"url": origin}],
        "tags": [{"name": tag, "description": TAGS[tag]} for tag in tags],
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _tables(app: web.Application) -> Iterator[tuple[str, RouteTable]]:
    yield "", app[ROUTES]
    for resource in app.router.resources():
        info = resource.get_info()
        if "app" in info:  # a mounted family app
            yield info["prefix"], info["app"][ROUTES]


def _path_item(path: str, ops: list[Operation], table: RouteTable, models: dict) -> dict[str, Any]:
    item: dict[str, Any] = {}
    names = PARAM.findall(path)
    if names:
        item["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": table.path_params[name]} for name in names
        ]
    for op in ops:
        item[op.method.lower()] = _operation(op, table.errors, models)
    return item


def _operation(op: Operation, errors: Errors | None, models: dict) -> dict[str, Any]:
    replies = dict(op.replies)
    if errors is not None:
        for code in sorted({*errors.always, *op.errors}):
            replies[code] = Reply(errors.texts[code], errors.model, headers=errors.headers.get(code, {}))
    operation: dict[str, Any] = {
        "operationId": f"{op.name}-{op.method.lower()}",
        "summary": op.summary,
        "tags": list(op.tags),
    }
    if op.deprecated:
        operation["deprecated"] = True
    if op.public:
        operation["security"] = []
    if op.query is not None:
        operation["parameters"] = _query_parameters(op.query)
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body, models)}},
        }
    elif op.upload:
        operation["requestBody"] = UPLOAD
    operation["responses"] = {str(code): _reply(replies[code], models) for code in sorted(replies)}
    return operation


def _reply(reply: Reply, models: dict) -> dict[str, Any]:
    rendered: dict[str, Any] = {"description": reply.description}
    content = dict(reply.content)
    if reply.json is not None:
        content["application/json"] = {"schema": _ref(reply.json, models)}
    if content:
        rendered["content"] = content
    if reply.headers:
        rendered["headers"] = dict(reply.headers)
    return rendered


def _ref(body: Any, models: dict) -> dict[str, Any]:
    """The schema of a wire model (a reference), ``list[Model]`` or a schema."""
    if isinstance(body, dict):
        return body
    if get_origin(body) is list:
        return {"type": "array", "items": _ref(get_args(body)[0], models)}
    models[body.__name__] = body
    return {"$ref": REF.format(model=body.__name__)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    assert "$defs" not in schema, f"{model.__name__}: query parameters are plain values"
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = _optional(field)
        field.pop("title", None)
        description = field.pop("description", None)
        parameter = {"name": name, "in": "query", "schema": field}
        if name in required:
            parameter["required"] = True
        parameters.append(parameter | ({"description": description} if description else {}))
    return parameters


def _optional(field: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter's schema without pydantic's ``null`` branch: a
    query string has no null, only an absent parameter."""
    field = dict(field)
    branches = [branch for branch in field.pop("anyOf", ()) if branch != {"type": "null"}]
    if len(branches) == 1:
        field = branches[0] | field
    elif branches:
        field["anyOf"] = branches
    if field.get("default", ...) is None:
        del field["default"]
    return field


class RenderedDocument:
    """The app's document but its ``servers``, rendered on the first request
    for it: an app's routes do not change once it runs, and rendering takes
    tens of milliseconds (too many to spend on every app the tests start)."""

    def __init__(self) -> None:
        self._document: dict[str, Any] | None = None

    def of(self, app: web.Application, origin: str) -> dict[str, Any]:
        if self._document is None:
            self._document = document(app, origin)
        return {**self._document, "servers": [{"url": origin}]}


DOCUMENT = web.AppKey("document", RenderedDocument)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[DOCUMENT].of(request.app, str(request.url.origin())))
