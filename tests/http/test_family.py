"""The sub-application each API family is mounted as (``family.py``): its
guards in their order, each refusal in the family's format. On a tiny app
mounted as the gateway mounts a family."""

from __future__ import annotations

import gzip
from collections.abc import Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from backends import StorageFull, StorageUnavailable
from gateway.http.cors import CorsPolicy
from gateway.http.family import family_app

KEY = "family-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
PAGE = "http://app.example:3000"


def render(status: int, message: str, kind: str, headers: Mapping[str, str]) -> web.Response:
    return web.json_response({"family": "test", "status": status, "message": message}, status=status, headers=headers)


async def echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


async def unavailable(request: web.Request) -> web.Response:
    raise StorageUnavailable("down")


async def full(request: web.Request) -> web.Response:
    raise StorageFull("full")


async def family(aiohttp_client, api_keys: tuple[str, ...] = (KEY,)) -> tuple[TestClient, list[str]]:  # noqa: ANN001
    reported: list[str] = []
    sub = family_app(
        render,
        api_keys=api_keys,
        cors=CorsPolicy([PAGE]),
        on_unavailable=lambda: reported.append("unavailable"),
        on_full=lambda: reported.append("full"),
        opened_by_link=lambda request: request.query.get("sig") == "ok",
    )
    sub.router.add_post("/echo", echo)
    sub.router.add_get("/unavailable", unavailable)
    sub.router.add_get("/full", full)
    app = web.Application()
    app.add_subapp("/family", sub)
    return await aiohttp_client(app), reported


async def answer(response) -> tuple[int, str]:  # noqa: ANN001
    body = await response.json()
    assert body["family"] == "test"  # rendered by the family
    return response.status, body["message"]


async def test_a_write_with_the_key_goes_through(aiohttp_client) -> None:  # noqa: ANN001
    client, _ = await family(aiohttp_client)
    for headers in [AUTH, {**AUTH, "Origin": PAGE}, {**AUTH, "Content-Encoding": "identity"}]:
        response = await client.post("/family/echo", data=b"body", headers=headers)
        assert (response.status, await response.read()) == (200, b"body")


async def test_a_write_from_another_origin_is_403_before_the_key_is_asked(aiohttp_client) -> None:  # noqa: ANN001
    client, _ = await family(aiohttp_client)
    status, message = await answer(
        await client.post("/family/echo", data=b"x", headers={"Origin": "http://evil.example"})
    )
    assert (status, "not allowed" in message) == (403, True)


async def test_without_the_key_401_before_the_body_is_looked_at(aiohttp_client) -> None:  # noqa: ANN001
    client, _ = await family(aiohttp_client)
    response = await client.post("/family/echo", data=b"x", headers={"Content-Encoding": "gzip"})
    assert await answer(response) == (401, "Missing or invalid API key")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    linked = await client.post("/family/echo?sig=ok", data=b"x")
    assert (linked.status, await linked.read()) == (200, b"x")


@pytest.mark.parametrize("api_keys", [(KEY,), ()], ids=["keys", "no-keys"])
async def test_a_compressed_body_is_415(aiohttp_client, api_keys: tuple[str, ...]) -> None:  # noqa: ANN001
    client, _ = await family(aiohttp_client, api_keys)
    response = await client.post("/family/echo", data=gzip.compress(b"x"), headers={**AUTH, "Content-Encoding": "gzip"})
    status, message = await answer(response)
    assert (status, "send the body uncompressed" in message) == (415, True)


async def test_storage_errors_and_unknown_routes_in_the_familys_format(aiohttp_client) -> None:  # noqa: ANN001
    client, reported = await family(aiohttp_client)
    assert (await answer(await client.get("/family/unavailable", headers=AUTH)))[0] == 503
    assert (await answer(await client.get("/family/full", headers=AUTH)))[0] == 507
    assert reported == ["unavailable", "full"]
    assert await answer(await client.get("/family/nowhere", headers=AUTH)) == (404, "Not Found")
    assert await answer(await client.get("/family/nowhere")) == (401, "Missing or invalid API key")
