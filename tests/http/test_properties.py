"""Properties over generated input (hypothesis): any Range header, any query
value, any file name answers as specified, never with a 5xx."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.settings import Settings

from ..server import ThreadedGateway

DATA = os.urandom(1000)
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with ThreadedGateway(Settings(storage="memory://")) as server:
        session = httpx.post(f"{server.url}/api/sessions", json={"title": "props"}).json()["id"]
        files = f"{server.url}/api/sessions/{session}/files"
        assert httpx.post(f"{files}/upload", files={"file": ("data.bin", DATA)}).status_code == 201
        assert httpx.post(f"{files}/upload", files={"file": ("photo.png", b"not really a png")}).status_code == 201
        folder = httpx.post(f"{server.url}/v1/folders/", json={"name": "props"}).json()["id"]
        yield {"file": f"{files}/data.bin", "files": files, "folders": f"{server.url}/v1/folders/", "folder": folder}


range_headers = st.one_of(
    st.builds(
        lambda a, b: f"bytes={a}-{b}",
        st.integers(0, 1200).map(str) | st.just(""),
        st.integers(0, 1200).map(str) | st.just(""),
    ),
    st.text(st.sampled_from("bytes=0123456789-, ;x"), max_size=20),
)


@FUZZ
@given(header=range_headers)
def test_any_range_header(urls: dict[str, str], header: str) -> None:
    try:
        response = httpx.get(urls["file"], headers={"Range": header})
    except httpx.LocalProtocolError:
        return  # httpx itself would not send it
    assert response.status_code in (200, 206, 416), (header, response.status_code)
    if response.status_code == 200:
        assert response.content == DATA
    elif response.status_code == 206:
        start, end, size = map(int, RANGE.fullmatch(response.headers["content-range"]).groups())
        assert size == len(DATA) and response.content == DATA[start : end + 1]
    else:
        assert response.headers["content-range"] == f"bytes */{len(DATA)}"


query_values = st.text(max_size=12) | st.sampled_from(
    ["1", "0", "-1", "²", "9" * 30, "true", "asc", "w100", "nan", "1e9"]
)


@FUZZ
@given(
    name=st.sampled_from(["limit", "order", "after", "before", "order_by", "name", "include_content"]),
    value=query_values,
)
def test_any_folder_query_value(urls: dict[str, str], name: str, value: str) -> None:
    for url in (urls["folders"], f"{urls['folders']}{urls['folder']}/files"):
        response = httpx.get(url, params={name: value})
        assert response.status_code in (200, 400, 404, 422), (name, value, response.status_code)
        assert isinstance(response.json(), list) or "detail" in response.json()


@FUZZ
@given(thumb=query_values, time=query_values)
def test_any_thumbnail_query(urls: dict[str, str], thumb: str, time: str) -> None:
    response = httpx.get(urls["files"] + "/photo.png", params={"thumb": thumb, "time": time})
    assert response.status_code == 400, (thumb, time, response.status_code)  # a bad spec, or not an image
    assert response.json()["error"]["type"] == "validation_error"


@FUZZ
@given(name=st.text(min_size=1, max_size=40))
def test_any_file_name_is_stored_exactly_or_refused(urls: dict[str, str], name: str) -> None:
    try:
        response = httpx.post(f"{urls['files']}/upload", files={"file": (name, b"named")})
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        return  # not sendable as a multipart filename by httpx
    assert response.status_code in (201, 400), (name, response.status_code)
    if response.status_code == 201:
        stored = response.json()["name"]
        got = httpx.get(f"{urls['files']}/{quote(stored, safe='')}")
        assert got.status_code == 200 and got.content == b"named"
        assert stored in [f["name"] for f in httpx.get(urls["files"]).json()]
