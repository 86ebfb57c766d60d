"""The session files API through the official mix-python-sdk, on every backend."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from mix_python_sdk import Mix

from ..mix_client import client, error_of, upload
from ..server import ThreadedGateway


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_health(mix: Mix) -> None:
    health = mix.system.get_health()
    assert health.status == "ok"
    assert health.version


def test_session_lifecycle(mix: Mix) -> None:
    first = mix.sessions.create(browser_mode="local-browser-service", title="first")
    second = mix.sessions.create(browser_mode="remote-cdp-websocket", title="second", cdp_url="wss://b.example/x")
    uuid.UUID(first.id)
    assert (first.title, first.session_type, first.browser_mode) == ("first", "main", "local-browser-service")
    assert (first.user_message_count, first.cost) == (0, 0.0)
    assert second.cdp_url == "wss://b.example/x"
    assert [s.id for s in mix.sessions.list()] == [second.id, first.id]  # newest first
    assert mix.sessions.get(id=first.id).title == "first"
    assert mix.sessions.delete(id=first.id) is None
    assert [s.id for s in mix.sessions.list(include_subagents=True)] == [second.id]
    assert error_of(lambda: mix.sessions.get(id=first.id)) == (
        404,
        "not_found",
        f"Session with ID '{first.id}' not found",
    )
    assert error_of(lambda: mix.sessions.delete(id=first.id))[:2] == (404, "not_found")


def test_callbacks_are_kept(mix: Mix) -> None:
    callbacks = [{"tool_name": "bash", "type": "bash_script", "bash_command": "echo hi"}]
    created = mix.sessions.create(browser_mode="local-browser-service", title="cb", callbacks=callbacks)
    stored = mix.sessions.get(id=created.id)
    assert stored.callbacks is not None
    assert (stored.callbacks[0].tool_name, stored.callbacks[0].bash_command) == ("bash", "echo hi")


@pytest.mark.parametrize("bad_id", ["nope", "123", "g" * 36, "0" * 32])
def test_malformed_session_ids(mix: Mix, bad_id: str) -> None:
    for call in (
        lambda: mix.sessions.get(id=bad_id),
        lambda: mix.sessions.delete(id=bad_id),
        lambda: mix.files.list_session_files(id=bad_id),
        lambda: upload(mix, bad_id, "a.txt", b"x"),
        lambda: mix.files.delete_session_file(id=bad_id, filename="a.txt"),
    ):
        code, kind, _ = error_of(call)
        assert (code, kind) == (400, "validation_error")


def test_unknown_session(mix: Mix) -> None:
    unknown = str(uuid.uuid4())
    for call in (
        lambda: mix.files.list_session_files(id=unknown),
        lambda: upload(mix, unknown, "a.txt", b"x"),
        lambda: mix.files.get_session_file(id=unknown, filename="a.txt"),
        lambda: mix.files.delete_session_file(id=unknown, filename="a.txt"),
    ):
        assert error_of(call)[:2] == (404, "not_found")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"title": "t", "surprise": 1}, "surprise"),
        ({"browserMode": "local-browser-service"}, "title"),
        ({"title": "t", "browserMode": "netscape"}, "browserMode"),
        ({"title": "t", "subagentType": "general-purpose"}, "subagentType"),
        ({"title": "t", "browserMode": "remote-cdp-websocket"}, "cdpUrl"),
        ({"title": "t", "browserMode": "remote-cdp-websocket", "cdpUrl": "http://x"}, "cdpUrl"),
        ({"title": "t", "sessionType": "subagent"}, "sessionType"),
        ([], "body"),
    ],
)
def test_create_session_validation(gateway: ThreadedGateway, body: object, problem: str) -> None:
    response = httpx.post(f"{gateway.url}/api/sessions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["type"]) == (400, "validation_error")
    assert problem in error["message"]


def test_create_session_needs_json(gateway: ThreadedGateway) -> None:
    response = httpx.post(f"{gateway.url}/api/sessions", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "bad_request"


def test_upload_list_download_delete(mix: Mix, session_id: str) -> None:
    data = os.urandom(2 * 1024 * 1024 + 3)
    info = upload(mix, session_id, "data.bin", data)
    assert (info.name, info.size, info.is_dir) == ("data.bin", len(data), False)
    assert info.url.split("?")[0].endswith(f"/api/sessions/{session_id}/files/data.bin")
    upload(mix, session_id, "notes.txt", b"hello")
    listed = mix.files.list_session_files(id=session_id)
    assert [(f.name, f.size) for f in listed] == [("data.bin", len(data)), ("notes.txt", 5)]
    assert all(abs(f.modified - int(time.time())) < 60 for f in listed)
    response = mix.files.get_session_file(id=session_id, filename="data.bin")
    assert sha(response.read()) == sha(data)
    assert response.headers["content-type"] == "application/octet-stream"
    via_url = httpx.get(info.url)
    assert sha(via_url.content) == sha(data)
    text = mix.files.get_session_file(id=session_id, filename="notes.txt")
    assert (text.read(), text.headers["content-type"]) == (b"hello", "text/plain")
    assert mix.files.delete_session_file(id=session_id, filename="data.bin") is None
    assert [f.name for f in mix.files.list_session_files(id=session_id)] == ["notes.txt"]
    assert error_of(lambda: mix.files.delete_session_file(id=session_id, filename="data.bin"))[:2] == (404, "not_found")
    assert error_of(lambda: mix.files.get_session_file(id=session_id, filename="data.bin"))[:2] == (404, "not_found")


def test_overwrite_replaces(mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "same.txt", b"first version, longer")
    info = upload(mix, session_id, "same.txt", b"second")
    assert info.size == 6
    assert mix.files.get_session_file(id=session_id, filename="same.txt").read() == b"second"
    assert [f.size for f in mix.files.list_session_files(id=session_id)] == [6]


def test_sessions_are_isolated(mix: Mix) -> None:
    one = mix.sessions.create(browser_mode="local-browser-service", title="one").id
    two = mix.sessions.create(browser_mode="local-browser-service", title="two").id
    upload(mix, one, "shared-name.txt", b"one")
    upload(mix, two, "shared-name.txt", b"two")
    upload(mix, one, "only-one.txt", b"1")
    assert mix.files.get_session_file(id=two, filename="shared-name.txt").read() == b"two"
    assert [f.name for f in mix.files.list_session_files(id=two)] == ["shared-name.txt"]
    assert error_of(lambda: mix.files.get_session_file(id=two, filename="only-one.txt"))[0] == 404
    mix.sessions.delete(id=one)
    assert mix.files.get_session_file(id=two, filename="shared-name.txt").read() == b"two"


def test_deleting_a_session_deletes_its_files(gateway: ThreadedGateway, mix: Mix, session_id: str) -> None:
    upload(mix, session_id, "a.txt", b"a")
    mix.sessions.delete(id=session_id)
    again = mix.sessions.create(browser_mode="local-browser-service", title="again").id
    assert mix.files.list_session_files(id=again) == []
    # Nothing of the deleted session is left in storage.
    storage_keys = httpx.get(f"{gateway.url}/api/sessions").json()
    assert [s["id"] for s in storage_keys] == [again]


@pytest.mark.parametrize(
    "name", ["my report (final).pdf", "naïve café.txt", "日本語.md", 'quote".txt', "...", "a" * 200]
)
def test_names_are_stored_as_given(mix: Mix, session_id: str, name: str) -> None:
    info = upload(mix, session_id, name, name.encode())
    assert info.name == name
    assert [f.name for f in mix.files.list_session_files(id=session_id)] == [name]
    assert mix.files.get_session_file(id=session_id, filename=name).read() == name.encode()
    assert httpx.get(info.url).content == name.encode()
    mix.files.delete_session_file(id=session_id, filename=name)


def test_percent_in_a_name_is_literal(mix: Mix, session_id: str) -> None:
    # The client leaves '%' unencoded in paths, so such a name is reached
    # through its `url`, which encodes it; it is never decoded twice.
    info = upload(mix, session_id, "%2e%2e", b"literal")
    assert info.url.split("?")[0].endswith("/files/%252e%252e")
    assert httpx.get(info.url).content == b"literal"
    assert httpx.delete(info.url).status_code == 204


# Refused before anything is stored, alike on every backend: the rules are
# tests/http/test_filenames.py's; here what the client sees, in memory only.
@pytest.mark.parametrize("backend_kind", ["memory"])
@pytest.mark.parametrize(
    "name", [".", "..", "../escape.txt", "a/b.txt", "..\\x.txt", "a\x00b", "tab\there", " lead", "x" * 256, "é" * 128]
)
def test_unsafe_upload_names_are_refused(mix: Mix, session_id: str, name: str) -> None:
    code, kind, _ = error_of(lambda: upload(mix, session_id, name, b"x"))
    assert (code, kind) == (400, "validation_error")
    assert mix.files.list_session_files(id=session_id) == []


@pytest.mark.parametrize(
    "path", ["..%2F..%2Fsecret", "%2e%2e%2f%2e%2e%2fsecret", "a%5C..%5Csecret", "x%00y", "%2E%2E", "a%2Fb"]
)
def test_traversal_in_paths_is_refused(gateway: ThreadedGateway, mix: Mix, session_id: str, path: str) -> None:
    url = f"{gateway.url}/api/sessions/{session_id}/files/{path}"
    for method in ("GET", "DELETE"):
        response = httpx.request(method, url)
        assert response.status_code in (400, 404), (method, path, response.status_code)
        assert response.json()["error"]["type"] in ("validation_error", "not_found")


def test_upload_limit(start_gateway: Callable[..., ThreadedGateway]) -> None:
    server = start_gateway(max_upload_bytes=1024 * 1024)
    mix = client(server)
    session_id = mix.sessions.create(browser_mode="local-browser-service", title="limits").id
    upload(mix, session_id, "exact.bin", b"x" * 1024 * 1024)
    code, kind, message = error_of(lambda: upload(mix, session_id, "big.bin", b"x" * (1024 * 1024 + 1)))
    assert (code, kind) == (413, "bad_request")
    assert "1048576" in message
    assert [f.name for f in mix.files.list_session_files(id=session_id)] == ["exact.bin"]


async def test_async_client(gateway: ThreadedGateway) -> None:
    mix = client(gateway)
    session = await mix.sessions.create_async(browser_mode="local-browser-service", title="async")
    data = os.urandom(300_000)
    info = await mix.files.upload_session_file_async(id=session.id, file={"file_name": "a.bin", "content": data})
    assert info.size == len(data)
    assert [f.name for f in await mix.files.list_session_files_async(id=session.id)] == ["a.bin"]
    response = await mix.files.get_session_file_async(id=session.id, filename="a.bin")
    assert sha(await response.aread()) == sha(data)
    await mix.files.delete_session_file_async(id=session.id, filename="a.bin")
    assert await mix.files.list_session_files_async(id=session.id) == []
    assert (await mix.sessions.get_async(id=session.id)).title == "async"
    await mix.sessions.delete_async(id=session.id)
    assert [s.id for s in await mix.sessions.list_async()] == []
    assert (await mix.system.get_health_async()).status == "ok"
