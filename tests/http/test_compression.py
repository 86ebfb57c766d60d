"""JSON and text answers compressed as the client accepts; downloads and
thumbnails never (``compression.py``): on the in-memory app, then the
middleware's own rules on a tiny app."""

from __future__ import annotations

import gzip
import json

import aiohttp
import brotli
import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.http.compression import MIN_BYTES, accepted_coding, compression_middleware
from gateway.settings import Settings


@pytest.fixture
async def client(aiohttp_client):  # noqa: ANN001, ANN201
    # aiohttp's client would decompress: the tests read the raw bytes.
    return await aiohttp_client(create_app(Settings(storage="memory://")), auto_decompress=False)


@pytest.mark.parametrize(
    ("accept", "coding"),
    [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", None), ("", None)],
)
async def test_openapi_document_compressed_as_accepted(client, accept: str, coding: str | None) -> None:  # noqa: ANN001
    response = await client.get("/openapi.json", headers={"Accept-Encoding": accept})
    assert response.status == 200
    body = await response.read()
    assert response.headers.get("Content-Encoding") == coding
    assert int(response.headers["Content-Length"]) == len(body)
    assert "Accept-Encoding" in response.headers["Vary"]
    plain = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](body)
    assert json.loads(plain)["openapi"].startswith("3.")
    if coding:
        assert len(body) < len(plain) / 4


async def test_listings_compressed_small_errors_not(client) -> None:  # noqa: ANN001
    plain = {"Accept-Encoding": "identity"}
    session = await (await client.post("/api/sessions", json={"title": "t" * 900}, headers=plain)).json()
    for _ in range(3):
        await client.post("/api/sessions", json={"title": "t" * 900})
    listed = await client.get("/api/sessions", headers={"Accept-Encoding": "gzip"})
    assert listed.headers["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(await listed.read()))) == 4
    missing = await client.get(f"/api/sessions/{session['id']}/files/none.txt", headers={"Accept-Encoding": "gzip"})
    assert missing.status == 404
    assert "Content-Encoding" not in missing.headers  # under a kilobyte: not worth it


async def test_downloads_and_thumbnails_are_never_compressed(client) -> None:  # noqa: ANN001
    from ..thumbnails.media import encode, gradient

    session = (await (await client.post("/api/sessions", json={"title": "t"})).json())["id"]
    for name, data in [("notes.txt", b"words " * 10_000), ("photo.png", encode(gradient(64, 64), "PNG"))]:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name)
        await client.post(f"/api/sessions/{session}/files/upload", data=form)
    accept = {"Accept-Encoding": "gzip, br"}
    for path in ["notes.txt", "photo.png?thumb=32"]:
        response = await client.get(f"/api/sessions/{session}/files/{path}", headers=accept)
        assert response.status == 200
        assert "Content-Encoding" not in response.headers
    ranged = await client.get(f"/api/sessions/{session}/files/notes.txt", headers={**accept, "Range": "bytes=0-9"})
    assert (ranged.status, await ranged.read()) == (206, b"words word")


@pytest.mark.parametrize(
    ("header", "coding"),
    [("GZIP", "gzip"), ("*", "br"), ("*;q=0", None), ("br;q=0.1, gzip;q=0.9", "br"), ("gzip;q=x", None)],
)
def test_accepted_coding(header: str, coding: str | None) -> None:
    assert accepted_coding(header) == coding


BIG = "words " * 20_000  # 120 kB: compressed in a worker thread
TEXT = "words " * 200  # 1.2 kB: just over the threshold, compressed inline


async def big_json(request: web.Request) -> web.Response:
    return web.json_response({"text": BIG})


async def text(request: web.Request) -> web.Response:
    return web.Response(text=TEXT)


async def small(request: web.Request) -> web.Response:
    return web.Response(text="w" * (MIN_BYTES - 1))


async def image(request: web.Request) -> web.Response:
    return web.Response(body=b"\0" * 4096, content_type="image/png")


async def encoded(request: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(TEXT.encode()), content_type="text/plain", headers={"Content-Encoding": "gzip"}
    )


async def streamed(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    await response.write(TEXT.encode())
    return response


@pytest.fixture
async def tiny(aiohttp_client):  # noqa: ANN001, ANN201
    app = web.Application(middlewares=[compression_middleware])
    for handler in (big_json, text, small, image, encoded, streamed):
        app.router.add_get(f"/{handler.__name__}", handler)
    return await aiohttp_client(app, auto_decompress=False)


@pytest.mark.parametrize(
    ("path", "plain"), [("/big_json", json.dumps({"text": BIG}).encode()), ("/text", TEXT.encode())]
)
@pytest.mark.parametrize("coding", ["br", "gzip"])
async def test_json_and_text_are_compressed_whole(tiny, path: str, plain: bytes, coding: str) -> None:  # noqa: ANN001
    response = await tiny.get(path, headers={"Accept-Encoding": coding})
    body = await response.read()
    assert (response.headers["Content-Encoding"], int(response.headers["Content-Length"])) == (coding, len(body))
    assert {"br": brotli.decompress, "gzip": gzip.decompress}[coding](body) == plain
    assert response.headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize(("path", "varies"), [("/small", True), ("/image", False), ("/streamed", False)])
async def test_small_media_and_streamed_answers_go_as_they_are(tiny, path: str, varies: bool) -> None:  # noqa: ANN001
    response = await tiny.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert response.status == 200
    assert "Content-Encoding" not in response.headers
    assert ("Accept-Encoding" in response.headers.get("Vary", "")) is varies


async def test_an_answer_encoded_already_is_left_alone(tiny) -> None:  # noqa: ANN001
    response = await tiny.get("/encoded", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.read()) == TEXT.encode()
