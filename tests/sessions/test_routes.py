"""The session API's routes: the URLs it hands out are built from its named
routes (the ``Location`` of what a 201 created, and each listed file's
``url``) and open that very thing, whatever characters the file name has;
a file name the router takes whole is refused by the view, a clear 400."""

from __future__ import annotations

import hashlib

import httpx

from gateway.settings import Settings

from ..server import ThreadedGateway

NAMES = ["plain.txt", "it's 50% + é;=.txt", "a%2Fb #1?.bin"]


def test_locations_and_urls_open_what_they_name() -> None:
    with ThreadedGateway(Settings(storage="memory://")) as gateway:
        created = httpx.post(f"{gateway.url}/api/sessions", json={"title": "located"})
        assert created.status_code == 201
        assert httpx.get(created.headers["location"]).json() == created.json()
        session = created.json()["id"]
        for index, name in enumerate(NAMES):
            data = name.encode() * (index + 1)
            uploaded = httpx.post(f"{gateway.url}/api/sessions/{session}/files/upload", files={"file": (name, data)})
            assert uploaded.status_code == 201, uploaded.text
            assert uploaded.headers["location"].startswith(f"{gateway.url}/api/sessions/{session}/files/")
            for url in (uploaded.headers["location"], uploaded.json()["url"]):
                response = httpx.get(url)
                assert response.status_code == 200, (name, url)
                assert hashlib.sha256(response.content).digest() == hashlib.sha256(data).digest()
        listed = httpx.get(f"{gateway.url}/api/sessions/{session}/files").json()
        assert sorted(f["name"] for f in listed) == sorted(NAMES)
        for info in listed:
            assert httpx.get(info["url"]).content.startswith(info["name"].encode())


def test_any_file_name_reaches_the_view() -> None:
    with ThreadedGateway(Settings(storage="memory://")) as gateway:
        session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "names"}).json()["id"]
        for method in ("GET", "HEAD", "DELETE"):
            for name in ("a%0Ab", "a%2Fb", "a/b"):
                response = httpx.request(method, f"{gateway.url}/api/sessions/{session}/files/{name}")
                assert response.status_code == 400, (method, name)
                if method != "HEAD":
                    assert response.json()["error"]["type"] == "validation_error"


def test_a_download_ignores_what_only_thumbnails_and_links_read() -> None:
    """``time`` means something only with ``thumb``, ``exp`` only to the
    link check (off without keys): a plain download is not refused for them."""
    with ThreadedGateway(Settings(storage="memory://")) as gateway:
        session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "queries"}).json()["id"]
        files = f"{gateway.url}/api/sessions/{session}/files"
        assert httpx.post(f"{files}/upload", files={"file": ("a.txt", b"abc")}).status_code == 201
        response = httpx.get(f"{files}/a.txt", params={"time": "abc", "exp": "soon"})
        assert (response.status_code, response.content) == (200, b"abc")
        refused = httpx.get(f"{files}/a.txt", params={"time": "abc", "thumb": "100"})
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "validation_error"
