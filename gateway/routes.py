"""The operations of the gateway's own app (health, metrics, this document);
the API families' are in ``sessions/routes.py`` and ``folders/routes.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs
from aiohttp.typedefs import Handler

from . import apidocs
from .health import health, readiness
from .http.routes import Operation, Reply, RouteTable
from .metrics import PATH as METRICS_PATH
from .metrics import Metrics
from .openapi import openapi

STATUS = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}
TEXT = {"text/plain": {"schema": {"type": "string"}}}


def root_table(metrics: Metrics) -> RouteTable:
    def get(
        path: str,
        handler: Handler,
        summary: str,
        replies: Mapping[int, Reply],
        tags: tuple[str, ...],
        name: str,
        **extra: Any,
    ) -> Operation:
        return Operation(hdrs.METH_GET, path, handler, summary, replies, tags, name=name, **extra)

    ok = {200: Reply("ok", STATUS)}
    return RouteTable(
        [
            get("/health", health, "The process answers", ok, ("health",), "health", public=True),
            get("/healthz", health, "Liveness", ok, ("health",), "healthz", public=True),
            get(
                "/readyz",
                readiness,
                "Readiness: the storage answers and the gateway is not draining",
                {200: Reply("ready", STATUS), 503: Reply("not ready", STATUS)},
                ("health",),
                "readyz",
                public=True,
            ),
            get(
                METRICS_PATH,
                metrics.view,
                "Prometheus metrics",
                {200: Reply("metrics", content=TEXT), 401: Reply("Missing or invalid API key", content=TEXT)},
                ("operations",),
                "metrics",
            ),
            get(
                "/openapi.json",
                openapi,
                "This document",
                {200: Reply("OpenAPI 3.1", {"type": "object"})},
                ("documentation",),
                "openapi",
                public=True,
            ),
            get(
                "/docs",
                apidocs.page,
                "This document for people (Swagger UI)",
                {200: Reply("The page", content={"text/html": {"schema": {"type": "string"}}})},
                ("documentation",),
                "docs",
                public=True,
            ),
            get(
                "/docs/{asset}",
                apidocs.asset,
                "The page's scripts, styles and icon",
                {
                    200: Reply(
                        "The file",
                        content={
                            media: {"schema": {"type": "string"}} for media in dict.fromkeys(apidocs.ASSETS.values())
                        },
                    ),
                    304: Reply("Not modified"),
                    404: Reply("No such file", content=TEXT),
                },
                ("documentation",),
                "docs-asset",
                public=True,
            ),
        ],
        path_params={"asset": {"enum": list(apidocs.ASSETS)}},
    )
