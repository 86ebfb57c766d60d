"""/openapi.json describes exactly the routes we serve, as valid OpenAPI 3.1,
and the parameters and answers the handlers really take and give; /docs
shows it from files the gateway serves itself."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from swagger_ui_bundle import swagger_ui_path

from gateway.app import create_app
from gateway.settings import Settings

from .server import ThreadedGateway
from .thumbnails.media import encode, gradient

KEY = "openapi-key-0123456789"
OPEN = {"/health", "/healthz", "/readyz", "/openapi.json", "/docs", "/docs/{asset}"}
#: Values no documented schema of these types admits.
BAD = {"integer": "x1", "number": "x1", "boolean": "maybe", "string": "\u00b2"}
#: Parameters read only beside another, sent with it.
COMPANIONS = {"time": {"thumb": "100"}}


@pytest.fixture(scope="module")
def gateway() -> Iterator[ThreadedGateway]:
    with ThreadedGateway(Settings(storage="memory://")) as server:
        yield server


@pytest.fixture(scope="module")
def document(gateway: ThreadedGateway) -> dict[str, Any]:
    response = httpx.get(f"{gateway.url}/openapi.json")
    assert response.status_code == 200
    return response.json()


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


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_document_is_valid_and_matches_the_routes(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    documented = {(path, method) for path, method, _ in operations(document) if method != "head"}
    served = served_routes()
    # Routed but not documented: create and list without the trailing slash.
    twins = served - documented
    assert twins == {(f"/v1/{family}", m) for family in ("folders", "sources") for m in ("get", "post")}
    assert {(f"{path}/", method) for path, method in twins} <= documented
    assert documented <= served
    heads = {path for path, method, _ in operations(document) if method == "head"}
    assert heads == {"/api/sessions/{id}/files/{filename}"}


def test_each_operation_is_described_once(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    declared = {tag["name"] for tag in document["tags"]}
    for path, _, operation in operations(document):
        assert operation["tags"] and set(operation["tags"]) <= declared, path
        assert operation.get("deprecated", False) == path.startswith("/v1/sources"), path
    assert document["servers"][0]["url"].startswith("http://127.0.0.1:")


def test_the_drift_the_document_had(document: dict[str, Any]) -> None:
    paths = document["paths"]
    download = paths["/api/sessions/{id}/files/{filename}"]["get"]
    params = {p["name"]: p["schema"] for p in download["parameters"]}
    assert params["thumb"]["pattern"] == "^([wh]?)([0-9]{1,4})$"
    assert params["time"] == {"type": "number", "minimum": 0, "maximum": 86400, "default": 1.0}
    assert {"*/*", "image/jpeg", "image/webp"} <= set(download["responses"]["200"]["content"])
    upload = {p["name"]: p["schema"] for p in paths["/v1/folders/{folder_id}/upload"]["post"]["parameters"]}
    assert upload["duplicate_handling"] == {
        "type": "string",
        "enum": ["skip", "error", "suffix", "replace"],
        "default": "suffix",
    }
    assert "/v1/folders" not in paths and "/v1/folders/" in paths
    error_type = document["components"]["schemas"]["ErrorDetail"]["properties"]["type"]
    assert error_type["enum"] == ["bad_request", "not_found", "internal_error", "unauthorized", "validation_error"]


@pytest.fixture(scope="module")
def keyed() -> Iterator[ThreadedGateway]:
    with ThreadedGateway(Settings(storage="memory://", api_keys=(KEY,))) as server:
        yield server


def concrete(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.fixture(scope="module")
def resources(keyed: ThreadedGateway) -> dict[str, str]:
    """A session with a PNG and a folder with a text file, on the keyed
    gateway: the values of every path parameter."""
    auth = {"Authorization": f"Bearer {KEY}"}
    session = httpx.post(f"{keyed.url}/api/sessions", json={"title": "doc"}, headers=auth).json()["id"]
    png = encode(gradient(40, 40), "PNG")
    httpx.post(f"{keyed.url}/api/sessions/{session}/files/upload", files={"file": ("p.png", png)}, headers=auth)
    folder = httpx.post(f"{keyed.url}/v1/folders/", json={"name": "doc"}, headers=auth).json()["id"]
    upload = httpx.post(f"{keyed.url}/v1/folders/{folder}/upload", files={"file": ("a.txt", b"a")}, headers=auth)
    return {
        "id": session,
        "filename": "p.png",
        "folder_id": folder,
        "source_id": folder,
        "file_id": upload.json()["id"],
        "folder_name": "doc",
        "asset": "start.js",
    }


def test_security_is_as_documented(keyed: ThreadedGateway, document: dict, resources: dict) -> None:
    """Every GET the document marks open answers without a key; every other
    one is 401 without it."""
    for path, method, operation in operations(document):
        if method != "get":
            continue
        response = httpx.get(keyed.url + concrete(path, resources))
        if path in OPEN:
            assert operation["security"] == [] and response.status_code < 400, path
        else:
            assert "security" not in operation and response.status_code == 401, path
            assert "401" in operation["responses"], path


def test_handlers_take_the_query_parameters_as_documented(
    keyed: ThreadedGateway, document: dict, resources: dict
) -> None:
    """For each GET with query parameters: every parameter at its documented
    default is answered 2xx, and a value its schema refuses is the family's
    4xx, in its error format, as documented."""
    auth = {"Authorization": f"Bearer {KEY}"}
    checked = 0
    for path, method, operation in operations(document):
        if method != "get" or not operation.get("parameters"):
            continue
        url = keyed.url + concrete(path, resources)
        defaults = {p["name"]: p["schema"]["default"] for p in operation["parameters"] if "default" in p["schema"]}
        # httpx sends booleans as "true"/"false".
        response = httpx.get(url, params=defaults, headers=auth)
        assert response.status_code == 200, (path, defaults, response.text)
        for parameter in operation["parameters"]:
            schema = parameter["schema"]
            if schema.get("type", "string") == "string" and not {"enum", "const", "pattern"} & set(schema):
                continue  # any string is fine
            bad = {parameter["name"]: BAD[schema.get("type", "string")]}
            response = httpx.get(url, params=COMPANIONS.get(parameter["name"], {}) | bad, headers=auth)
            assert str(response.status_code) in operation["responses"], (path, parameter["name"], response.text)
            if path.startswith("/api/"):
                assert response.status_code == 400, (path, parameter["name"])
                assert response.json()["error"]["type"] == "validation_error"
            else:
                assert response.status_code == 422, (path, parameter["name"])
                assert parameter["name"] in response.json()["detail"] or "ID" in response.json()["detail"]
            checked += 1
    assert checked >= 40


def test_docs_page_and_its_assets_come_from_the_gateway(gateway: ThreadedGateway) -> None:
    page = httpx.get(f"{gateway.url}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self': no CDN can load
    assets = re.findall(r'(?:src|href)="(docs/[^"]+)"', page.text)
    assert set(assets) == {
        "docs/swagger-ui.css",
        "docs/swagger-ui-bundle.js",
        "docs/favicon-32x32.png",
        "docs/start.js",
    }
    for asset in assets:
        response = httpx.get(f"{gateway.url}/{asset}")
        assert response.status_code == 200, asset
        bundled = swagger_ui_path / asset.removeprefix("docs/")
        if bundled.is_file():
            assert hashlib.sha256(response.content).digest() == hashlib.sha256(bundled.read_bytes()).digest()
            again = httpx.get(f"{gateway.url}/{asset}", headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304
    assert 'url: "openapi.json"' in httpx.get(f"{gateway.url}/docs/start.js").text
    for other in ("index.html", "swagger-ui.js.map", "..%2Fapidocs.py", "swagger-initializer.js"):
        assert httpx.get(f"{gateway.url}/docs/{other}").status_code == 404, other
