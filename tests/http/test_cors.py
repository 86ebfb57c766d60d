"""CORS: preflights on every route before auth, headers on every answer to an
allowed origin, and no writes from pages of other origins."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.app import create_app
from gateway.http.cors import CorsPolicy
from gateway.settings import Settings

from .routes import VALUES, routes

PAGE = "http://app.example:3000"
KEY = "cors-key-0123456789"
REQUIRED_ALLOW = {"authorization", "content-type", "range", "if-none-match", "if-modified-since", "x-request-id"}
REQUIRED_EXPOSE = {
    "etag",
    "content-range",
    "accept-ranges",
    "content-disposition",
    "content-length",
    "x-request-id",
    "x-upload-result",
    "retry-after",
}


def list_of(header: str) -> set[str]:
    return {item.strip().lower() for item in header.split(",")}


@pytest.fixture
async def client(aiohttp_client):  # noqa: ANN001, ANN201
    return await aiohttp_client(create_app(Settings(storage="memory://", cors_origins=(PAGE,), api_keys=(KEY,))))


async def test_preflights_of_every_route_need_no_key(client) -> None:  # noqa: ANN001
    every = sorted(set(routes(client.app)))
    assert len(every) > 20
    for path, method in every:
        response = await client.options(
            path,
            headers={
                "Origin": PAGE,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert response.status == 204, (path, method)
        assert response.headers["Access-Control-Allow-Origin"] == PAGE
        assert method.lower() in list_of(response.headers["Access-Control-Allow-Methods"])
        assert list_of(response.headers["Access-Control-Allow-Headers"]) >= REQUIRED_ALLOW
        assert 600 <= int(response.headers["Access-Control-Max-Age"]) <= 7200
        assert "origin" in list_of(response.headers["Vary"])


async def test_preflight_of_an_origin_not_allowed_gets_no_cors(client) -> None:  # noqa: ANN001
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    response = await client.options("/api/sessions", headers=headers)
    assert response.status != 204
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_answers_to_an_allowed_origin_carry_cors_headers_errors_too(client) -> None:  # noqa: ANN001
    authed = {"Origin": PAGE, "Authorization": f"Bearer {KEY}"}
    for response in [
        await client.get("/api/sessions", headers=authed),
        await client.get("/api/sessions", headers={"Origin": PAGE}),  # 401
        await client.get(f"/v1/folders/{VALUES['folder_id']}", headers=authed),  # 404
    ]:
        assert response.headers["Access-Control-Allow-Origin"] == PAGE
        assert list_of(response.headers["Access-Control-Expose-Headers"]) >= REQUIRED_EXPOSE
    plain = await client.get("/api/sessions", headers={"Authorization": f"Bearer {KEY}"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert "origin" in list_of(plain.headers["Vary"])  # a cache must not give it to a page


async def test_no_cors_headers_by_default(aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://")))
    response = await client.get("/api/sessions", headers={"Origin": PAGE})
    assert response.status == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    preflight = await client.options("/api/sessions", headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"})
    assert preflight.status == 405


async def test_any_origin(aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://", cors_origins=("*",))))
    response = await client.get("/api/sessions", headers={"Origin": "http://anywhere.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    created = await client.post("/api/sessions", json={"title": "t"}, headers={"Origin": "http://anywhere.example"})
    assert created.status == 201


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://app.example:3001", "https://app.example:3000"]
)
async def test_writes_from_other_origins_are_403_and_change_nothing(aiohttp_client, origin: str) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://", cors_origins=(PAGE,))))
    evil = {"Origin": origin}
    session = await client.post("/api/sessions", json={"title": "t"}, headers=evil)
    assert session.status == 403
    assert (await session.json())["error"]["code"] == 403
    folder = await client.post("/v1/folders/", json={"name": "f"}, headers=evil)
    assert folder.status == 403
    assert "detail" in await folder.json()
    created = await (await client.post("/api/sessions", json={"title": "t"})).json()
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="x.txt")
    upload = await client.post(f"/api/sessions/{created['id']}/files/upload", data=form, headers=evil)
    assert upload.status == 403
    deleted = await client.delete(f"/api/sessions/{created['id']}", headers=evil)
    assert deleted.status == 403
    assert [s["id"] for s in await (await client.get("/api/sessions")).json()] == [created["id"]]
    assert await (await client.get(f"/api/sessions/{created['id']}/files")).json() == []
    assert await (await client.get("/v1/folders/")).json() == []


async def test_writes_from_allowed_and_own_origins_and_without_origin_go_through(aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://", cors_origins=(PAGE,))))
    own = f"http://{client.host}:{client.port}"
    for headers in [{"Origin": PAGE}, {"Origin": own}, {}]:
        assert (await client.post("/api/sessions", json={"title": "t"}, headers=headers)).status == 201
        assert (await client.get("/api/sessions", headers={"Origin": "http://evil.example"})).status == 200


@pytest.mark.parametrize("path", ["/api/sessions", "/v1/folders/"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
async def test_json_endpoints_take_only_json(aiohttp_client, path: str, content_type: str) -> None:  # noqa: ANN001
    """What a page may send without a preflight never reaches a JSON handler."""
    client = await aiohttp_client(create_app(Settings(storage="memory://")))
    body = '{"title": "t", "name": "f"}'
    response = await client.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status == 415
    assert await (await client.get(path)).json() == []


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (PAGE, True),
        ("http://APP.example:3000", True),
        ("http://app.example:3000/", True),
        ("http://app.example", False),
        ("null", False),
        ("not a url", False),
    ],
)
def test_policy_compares_origins_as_browsers_do(origin: str, allowed: bool) -> None:
    assert CorsPolicy([PAGE]).allows(origin) is allowed
