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
