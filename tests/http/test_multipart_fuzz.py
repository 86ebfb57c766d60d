"""Malformed multipart bodies, generated: on both upload routes every one is
a 4xx in the family's format, never a 5xx, and nothing is stored unless the
upload succeeded. (aiohttp warns of the bad Content-Disposition headers it
meets: expected here.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.settings import Settings

from ..server import ThreadedGateway

BOUNDARY = b"fuzzb0undary"
HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}"}
#: Bytes that break header parsing: controls, NUL, bare CR and LF, separators, non-ASCII.
TRICKY = st.sampled_from(
    [b"\x00", b"\x01", b"\x1f", b"\x7f", b"\r", b"\n", b":", b";", b'"', b"\\", b"\xff", b"\xc3\xa9"]
)
FILE_PART = b'--fuzzb0undary\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nx'
WORDS = st.sampled_from([b"a", b"file", b"name", b"="])
TEXT = st.lists(st.one_of(TRICKY, st.binary(max_size=4), WORDS), max_size=12)


def joined(pieces: list[bytes]) -> bytes:
    return b"".join(pieces)


@st.composite
def header_block(draw: st.DrawFn) -> bytes:
    """The headers of one part: a Content-Disposition with junk in its name
    or filename, maybe other lines, lines without colons, huge counts."""
    name = draw(st.sampled_from([b"file", b"_charset_", b"other"]) | TEXT.map(joined))
    filename = draw(st.sampled_from([b"a.txt", b"\xc3\xa9.txt", b"../x", b""]) | TEXT.map(joined))
    lines = [b'Content-Disposition: form-data; name="' + name + b'"; filename="' + filename + b'"']
    lines += draw(st.lists(TEXT.map(joined), max_size=3))
    if draw(st.booleans()):
        lines.append(b"Content-Type: " + draw(TEXT.map(joined)))
    if draw(st.integers(0, 20)) == 0:
        lines += [b"X-Many: 1"] * 200  # more headers than aiohttp reads
    return b"\r\n".join(lines)


@st.composite
def body(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        content = draw(st.binary(max_size=64))
        parts.append(b"--" + BOUNDARY + b"\r\n" + draw(header_block()) + b"\r\n\r\n" + content + b"\r\n")
    whole = b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"
    if draw(st.booleans()):
        whole = whole[: draw(st.integers(0, len(whole)))]  # cut anywhere, inside the headers too
    return whole


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedGateway]:
    with ThreadedGateway(Settings(storage="memory://", max_upload_bytes=1024)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def routes(server: ThreadedGateway) -> dict[str, tuple[str, str]]:
    return routes_of(server)


def routes_of(server: ThreadedGateway) -> dict[str, tuple[str, str]]:
    """(upload URL, listing URL) of a new session and a new folder."""
    session = httpx.post(f"{server.url}/api/sessions", json={"title": "fuzz"}).json()["id"]
    folder = httpx.post(f"{server.url}/v1/folders/", json={"name": "fuzz"}).json()["id"]
    return {
        "sessions": (f"{server.url}/api/sessions/{session}/files/upload", f"{server.url}/api/sessions/{session}/files"),
        "folders": (f"{server.url}/v1/folders/{folder}/upload", f"{server.url}/v1/folders/{folder}/files"),
    }


def listed(url: str) -> int:
    return len(httpx.get(url).json())


@pytest.mark.parametrize("family", ["sessions", "folders"])
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=body())
def test_no_multipart_body_is_a_server_fault(routes: dict[str, tuple[str, str]], family: str, data: bytes) -> None:
    upload, files = routes[family]
    before = listed(files)
    response = httpx.post(upload, content=data, headers=HEADERS, timeout=10)
    assert response.status_code < 500, (response.status_code, response.text, data)
    if response.status_code in (200, 201):
        assert listed(files) in (before, before + 1)  # a replaced name keeps the count
        return
    error = response.json()
    assert ("error" in error) if family == "sessions" else ("detail" in error)
    assert listed(files) == before


@pytest.mark.parametrize("family", ["sessions", "folders"])
@pytest.mark.parametrize(
    "data",
    [
        b'--fuzzb0undary\r\nContent-Disposition: form-data; name="file"; filename="a\x00.txt"\r\n\r\nx\r\n',
        b'--fuzzb0undary\r\nContent-Disposition: form-data; name="file\x01"; filename="a.txt"\r\n\r\nx\r\n',
        b"--fuzzb0undary\r\nno colon here\r\n\r\nx\r\n--fuzzb0undary--\r\n",
        b'--fuzzb0undary\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nnot-a-charset\r\n'
        + FILE_PART
        + b"\r\n--fuzzb0undary--\r\n",
        b"--fuzzb0undary\r\nContent-Disposition: form-data; na",
        b"--fuzzb0undary\r\nContent-Type: a\rb\r\n" + FILE_PART.removeprefix(b"--fuzzb0undary\r\n"),
    ],
    ids=["nul-in-filename", "control-in-name", "no-colon", "charset-field", "cut-in-headers", "bare-cr"],
)
def test_known_malformed_bodies_are_400(
    start_gateway: Callable[..., ThreadedGateway], family: str, data: bytes
) -> None:
    """On every backend: nothing reaches the storage, S3's multipart uploads included."""
    upload, files = routes_of(start_gateway())[family]
    before = listed(files)
    response = httpx.post(upload, content=data, headers=HEADERS, timeout=10)
    assert response.status_code == 400, response.text
    assert listed(files) == before


def test_thousands_of_fields_before_the_file_are_refused_at_once() -> None:
    empty = b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="x"\r\n\r\n\r\n'
    data = empty * 50_000 + b"--" + BOUNDARY + b"--\r\n"
    with ThreadedGateway(Settings(storage="memory://")) as server:
        session = httpx.post(f"{server.url}/api/sessions", json={"title": "fields"}).json()["id"]
        upload = f"{server.url}/api/sessions/{session}/files/upload"
        response = httpx.post(upload, content=data, headers=HEADERS, timeout=10)
    assert response.status_code == 400
    assert "form fields" in response.json()["error"]["message"]
