"""Signed links: one file of one session, for a while, without a header."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from gateway.app import create_app
from gateway.http.signing import LinkSigner
from gateway.settings import Settings

KEY = "signing-api-key-0123456789"
SIGNING_KEYS = ("a" * 32, "b" * 32)
TARGET = "session-file\nsession\nname.txt"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_100.0  # just after a quarter of an hour began

    def __call__(self) -> float:
        return self.now


def test_a_link_works_for_its_ttl_and_a_quarter_at_most() -> None:
    clock = Clock()
    signer = LinkSigner([b"k" * 32], ttl=3600, clock=clock)
    query = signer.sign(TARGET)
    assert 3600 <= int(query["exp"]) - clock.now < 4500
    assert signer.valid(TARGET, **query)
    clock.now = int(query["exp"])
    assert signer.valid(TARGET, **query)
    clock.now += 1
    assert not signer.valid(TARGET, **query)


def test_links_of_one_quarter_are_the_same_url() -> None:
    clock = Clock()
    signer = LinkSigner([b"k" * 32], ttl=3600, clock=clock)
    first = signer.sign(TARGET)
    clock.now += 60
    assert signer.sign(TARGET) == first


@pytest.mark.parametrize(
    "change",
    [
        {"exp": "1"},  # in the past
        {"exp": "99999999999"},  # later than signed
        {"exp": "-1"},
        {"exp": "1e12"},
        {"exp": "9" * 40},
        {"sig": "A" * 22},
        {"sig": ""},
    ],
)
def test_tampered_links_are_invalid(change: dict[str, str]) -> None:
    signer = LinkSigner([b"k" * 32], ttl=3600)
    assert not signer.valid(TARGET, **(signer.sign(TARGET) | change))


def test_a_link_opens_only_its_target() -> None:
    signer = LinkSigner([b"k" * 32], ttl=3600)
    query = signer.sign(TARGET)
    for other in ["session-file\nsession\nother.txt", "session-file\nother-session\nname.txt", TARGET + "x"]:
        assert not signer.valid(other, **query)


def test_rotation_the_first_key_signs_all_verify() -> None:
    old, new = b"o" * 32, b"n" * 32
    by_old = LinkSigner([old], ttl=3600).sign(TARGET)
    rotated = LinkSigner([new, old], ttl=3600)
    assert rotated.valid(TARGET, **by_old)
    assert LinkSigner([new], ttl=3600).valid(TARGET, **rotated.sign(TARGET))
    assert not LinkSigner([new], ttl=3600).valid(TARGET, **by_old)


def test_keys_derived_from_api_keys_are_shared_by_replicas_and_follow_them() -> None:
    one = LinkSigner.from_keys((), ("api-key-1-0123456789", "api-key-2-0123456789"), 3600)
    two = LinkSigner.from_keys((), ("api-key-1-0123456789", "api-key-2-0123456789"), 3600)
    assert one.sign(TARGET) == two.sign(TARGET)
    assert LinkSigner.from_keys((), ("api-key-2-0123456789",), 3600).valid(TARGET, **one.sign(TARGET)) is False
    assert not LinkSigner.from_keys((), (), 3600).enabled
    assert LinkSigner.from_keys((), (), 3600).sign(TARGET) == {}


@pytest.fixture
async def client(aiohttp_client):  # noqa: ANN001, ANN201
    settings = Settings(storage="memory://", api_keys=(KEY,), url_signing_key=SIGNING_KEYS)
    return await aiohttp_client(create_app(settings))


AUTH = {"Authorization": f"Bearer {KEY}"}


async def upload(client, name: str, data: bytes) -> tuple[str, str]:  # noqa: ANN001
    session = (await (await client.post("/api/sessions", json={"title": "t"}, headers=AUTH)).json())["id"]
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name)
    uploaded = await client.post(f"/api/sessions/{session}/files/upload", data=form, headers=AUTH)
    assert uploaded.status == 201
    return session, (await uploaded.json())["url"]


def path_and_query(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


@pytest.mark.parametrize("name", ["notes.txt", "résumé 2024 (1).txt", "a+b&c=d;e%20f#g?.txt"])
async def test_the_url_handed_out_opens_its_file_without_a_header(client, name: str) -> None:  # noqa: ANN001
    data = b"signed " * 1000
    session, url = await upload(client, name, data)
    path, query = path_and_query(url)
    assert set(query) == {"v", "exp", "sig"}
    response = await client.get(path, params=query)
    assert response.status == 200
    assert hashlib.sha256(await response.read()).digest() == hashlib.sha256(data).digest()
    assert (await client.head(path, params=query)).status == 200
    listed = await (await client.get(f"/api/sessions/{session}/files", headers=AUTH)).json()
    assert listed[0]["url"] == url


async def test_a_thumbnail_of_the_linked_file(client) -> None:  # noqa: ANN001
    from ..thumbnails.media import encode, gradient

    _, url = await upload(client, "photo.png", encode(gradient(64, 32), "PNG"))
    path, query = path_and_query(url)
    response = await client.get(path, params={**query, "thumb": "w16", "time": "1.0"})
    assert response.status == 200
    assert response.content_type == "image/jpeg"


@pytest.mark.parametrize(
    "change",
    [
        lambda path, q: (path, {**q, "sig": q["sig"][:-1] + ("A" if q["sig"][-1] != "A" else "B")}),
        lambda path, q: (path, {**q, "exp": str(int(q["exp"]) + 1)}),
        lambda path, q: (path, {**q, "exp": "1000"}),
        lambda path, q: (path, {k: v for k, v in q.items() if k != "sig"}),
        lambda path, q: (path.replace("notes.txt", "other.txt"), q),  # another file
        lambda path, q: (path.rsplit("/files/", 1)[0] + "/files", q),  # the listing
        lambda path, q: ("/api/sessions", q),
        lambda path, q: ("/metrics", q),
    ],
    ids=["signature", "expiry", "expired", "no-signature", "another-file", "listing", "sessions", "metrics"],
)
async def test_expired_tampered_or_misused_links_are_401(client, change) -> None:  # noqa: ANN001
    _, url = await upload(client, "notes.txt", b"n")
    path, query = change(*path_and_query(url))
    response = await client.get(path, params=query)
    assert response.status == 401
    if path.startswith("/api"):
        assert (await response.json())["error"]["type"] == "unauthorized"


async def test_another_session_is_401(client) -> None:  # noqa: ANN001
    session, url = await upload(client, "notes.txt", b"n")
    other, _ = await upload(client, "notes.txt", b"n")
    path, query = path_and_query(url)
    assert (await client.get(path.replace(session, other), params=query)).status == 401
    assert (await client.get(path.replace(session, str(uuid.uuid4())), params=query)).status == 401


async def test_a_link_cannot_delete(client) -> None:  # noqa: ANN001
    _, url = await upload(client, "notes.txt", b"n")
    path, query = path_and_query(url)
    assert (await client.delete(path, params=query)).status == 401
    assert (await client.get(path, params=query)).status == 200


async def test_links_are_unsigned_but_versioned_without_api_keys(aiohttp_client) -> None:  # noqa: ANN001
    client = await aiohttp_client(create_app(Settings(storage="memory://")))
    session = (await (await client.post("/api/sessions", json={"title": "t"})).json())["id"]
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="x.txt")
    url = (await (await client.post(f"/api/sessions/{session}/files/upload", data=form)).json())["url"]
    assert set(path_and_query(url)[1]) == {"v"}
