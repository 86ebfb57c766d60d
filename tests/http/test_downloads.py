"""Ranged and conditional downloads: the same answers from every backend
(sendfile on local disk, streamed chunks from memory)."""

from __future__ import annotations

import os
from email.utils import formatdate

import httpx
import pytest

from ..server import ThreadedGateway

DATA = os.urandom(1024 * 1024 + 123)


@pytest.fixture
def file_url(gateway: ThreadedGateway) -> str:
    session = httpx.post(f"{gateway.url}/api/sessions", json={"title": "dl"}).json()
    uploaded = httpx.post(
        f"{gateway.url}/api/sessions/{session['id']}/files/upload", files={"file": ("photo 1.jpg", DATA)}
    )
    assert uploaded.status_code == 201
    return uploaded.json()["url"]


def test_full_download_headers(file_url: str) -> None:
    response = httpx.get(file_url)
    assert response.status_code == 200
    assert response.content == DATA
    headers = response.headers
    assert headers["content-type"] == "image/jpeg"
    assert headers["content-length"] == str(len(DATA))
    assert headers["content-disposition"] == "inline; filename=\"photo 1.jpg\"; filename*=UTF-8''photo%201.jpg"
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"].startswith('"') and headers["etag"].endswith('"')
    assert headers["last-modified"].endswith("GMT")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "sandbox"
    assert headers["referrer-policy"] == "no-referrer"
    assert httpx.get(file_url).headers["etag"] == headers["etag"]


def test_head(file_url: str) -> None:
    response = httpx.head(file_url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["etag"] == httpx.get(file_url).headers["etag"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=10-19", 10, 20),
        ("bytes=1000-", 1000, len(DATA)),
        ("bytes=-500", len(DATA) - 500, len(DATA)),
        ("bytes=5-99999999", 5, len(DATA)),
        ("bytes=-99999999", 0, len(DATA)),
    ],
)
def test_single_range(file_url: str, header: str, start: int, end: int) -> None:
    response = httpx.get(file_url, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start)


def test_unsatisfiable_range(file_url: str) -> None:
    response = httpx.get(file_url, headers={"Range": f"bytes={len(DATA)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert response.json()["error"]["code"] == 416


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=9-2", "bytes=x-y"])
def test_ranges_we_do_not_serve_give_the_whole_file(file_url: str, header: str) -> None:
    response = httpx.get(file_url, headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA


def test_if_none_match_and_if_match(file_url: str) -> None:
    etag = httpx.get(file_url).headers["etag"]
    not_modified = httpx.get(file_url, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == etag
    assert httpx.get(file_url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert httpx.get(file_url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert httpx.get(file_url, headers={"If-None-Match": "*"}).status_code == 304
    assert httpx.get(file_url, headers={"If-Match": etag}).status_code == 200
    failed = httpx.get(file_url, headers={"If-Match": '"other"'})
    assert failed.status_code == 412
    assert failed.json()["error"]["code"] == 412


def test_dates(file_url: str) -> None:
    last_modified = httpx.get(file_url).headers["last-modified"]
    assert httpx.get(file_url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert httpx.get(file_url, headers={"If-Modified-Since": formatdate(0, usegmt=True)}).status_code == 200
    assert httpx.get(file_url, headers={"If-Unmodified-Since": formatdate(0, usegmt=True)}).status_code == 412


def test_if_range(file_url: str) -> None:
    etag = httpx.get(file_url).headers["etag"]
    assert httpx.get(file_url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    stale = httpx.get(file_url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert (stale.status_code, len(stale.content)) == (200, len(DATA))


def test_overwrite_changes_the_etag(gateway: ThreadedGateway, file_url: str) -> None:
    etag = httpx.get(file_url).headers["etag"]
    session_files = file_url.rsplit("/", 1)[0]
    httpx.post(f"{session_files}/upload", files={"file": ("photo 1.jpg", b"new")})
    response = httpx.get(file_url, headers={"If-None-Match": etag})
    assert (response.status_code, response.content) == (200, b"new")


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("résumé 2024.txt", "resume 2024.txt"),
        ("报告.pdf", "__.pdf"),
        ('say "hi" \\ 100%.txt', "say _hi_ _ 100_.txt"),
        ("ﬁle.txt", "file.txt"),
    ],
)
def test_content_disposition_has_an_ascii_fallback(name: str, fallback: str) -> None:
    from urllib.parse import quote

    from gateway.http.downloads import content_disposition

    assert content_disposition(name) == f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def test_an_empty_suffix_range_is_416(file_url: str) -> None:
    response = httpx.get(file_url, headers={"Range": "bytes=-0"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
