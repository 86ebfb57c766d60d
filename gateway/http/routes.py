"""One table of operations per app, from which both its router and its part
of ``/openapi.json`` are derived (``gateway/openapi.py`` walks the apps, as
starlette's ``SchemaGenerator`` walks its routes).

An operation is declared once: path, method, handler, route name, query and
body models, answers, tags. The views parse their query strings with the
same models (``gateway/http/query.py``), so the document shows what they
accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from .uploads import expect_upload


@dataclass(frozen=True)
class Reply:
    """One answer of an operation. ``json`` is a wire model, ``list[Model]``
    or a JSON schema; ``content`` gives other media types their schemas."""

    description: str
    json: Any = None
    content: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    method: str
    #: aiohttp's template, relative to the app's prefix (``{filename:[\s\S]+}``).
    path: str
    handler: Handler
    summary: str
    #: The answers particular to this operation; the family's error answers
    #: are added from ``errors`` (codes) and the table's ``always``.
    replies: Mapping[int, Reply]
    tags: tuple[str, ...]
    #: The resource's name, for ``url_for``; one name per path.
    name: str | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    #: A streamed multipart upload (a ``file`` part); 100-continue checked.
    upload: bool = False
    errors: tuple[int, ...] = ()
    deprecated: bool = False
    #: Needs no API key: the root app guards its other operations (see
    #: ``keyed_paths``); a family's app asks a key on every route.
    public: bool = False
    #: Paths routed to the same operation and left out of the document: the
    #: form without the trailing slash, which clients may also call.
    twins: tuple[str, ...] = ()


#: The regex of a path parameter that takes the rest of the path, slashes
#: and line breaks too (aiohttp's ``.`` stops at a line break), so that the
#: view, not the router, refuses a name: a clear 400 rather than a 404.
REST = r"[\s\S]+"

#: What the statuses both families answer alike mean.
STATUS_TEXTS = {
    403: "A write from a page of an origin not in cors_origins",
    408: "The body stopped coming (body_timeout); nothing was stored",
    413: "Too large",
    503: "Storage unavailable; retry after Retry-After seconds",
    507: "Storage full; nothing was stored; retry after Retry-After seconds",
}


@dataclass(frozen=True)
class Errors:
    """A family's error answers: the model of its error body, the text of
    each status it answers, and the ones every operation may answer."""

    model: type[BaseModel]
    texts: Mapping[int, str]
    always: tuple[int, ...]
    headers: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteTable:
    operations: Sequence[Operation]
    #: The schema of each path parameter, by name.
    path_params: Mapping[str, Mapping[str, Any]]
    errors: Errors | None = None

    def keyed_paths(self) -> set[str]:
        """The paths of the operations that need a key: what the root app's
        ``auth.path_guard`` guards (its operations have no path parameters)."""
        return {op.path for op in self.operations if not op.public}

    def install(self, app: web.Application) -> None:
        """Add the routes, in the table's order (literal segments before
        the ids they would otherwise match), one resource per path."""
        app[ROUTES] = self
        paths: dict[str, list[Operation]] = {}
        for op in self.operations:
            for path in (op.path, *op.twins):
                paths.setdefault(path, []).append(op)
        for path, ops in paths.items():
            names = {op.name for op in ops if op.name and path == op.path}
            if len(names) > 1:
                raise ValueError(f"{path} has more than one name: {sorted(names)}")
            resource = app.router.add_resource(path, name=next(iter(names), None))
            methods = {op.method for op in ops}
            for op in ops:
                expect = expect_upload if op.upload else None
                if op.method == hdrs.METH_GET and hdrs.METH_HEAD not in methods:
                    # As add_get does: HEAD wherever GET, unless declared.
                    resource.add_route(hdrs.METH_HEAD, op.handler, expect_handler=expect)
                resource.add_route(op.method, op.handler, expect_handler=expect)


#: The route table an app was built from.
ROUTES = web.AppKey("routes", RouteTable)
