"""/openapi.json describes exactly the routes we serve, as valid OpenAPI 3.1."""

from __future__ import annotations

import re

import httpx
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.settings import Settings

from .server import ThreadedGateway


def served_routes() -> set[tuple[str, str]]:
    """(path template, method) of every route the app serves, HEAD aside:
    aiohttp answers HEAD wherever it answers GET."""
    app = create_app(Settings(storage="memory://"))
    routes = set()

    def walk(router) -> None:  # noqa: ANN001
        for resource in router.resources():
            info = resource.get_info()
            if "app" in info:  # a sub-app; its resources know their full paths
                walk(info["app"].router)
                continue
            path = re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", resource.canonical)
            routes.update((path, route.method.lower()) for route in resource if route.method != "HEAD")

    walk(app.router)
    return routes


def test_document_is_valid_and_matches_the_routes(gateway: ThreadedGateway) -> None:
    response = httpx.get(f"{gateway.url}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == served_routes()
    documented_heads = {path for path, item in document["paths"].items() if "head" in item}
    assert {(path, "get") for path in documented_heads} <= documented


def test_open_routes_are_marked_open(gateway: ThreadedGateway) -> None:
    paths = httpx.get(f"{gateway.url}/openapi.json").json()["paths"]
    open_paths = {
        path
        for path, item in paths.items()
        for op in item.values()
        if isinstance(op, dict) and op.get("security") == []
    }
    assert open_paths == {"/health", "/healthz", "/readyz", "/openapi.json"}
