"""Every folder and source call of letta-client 0.1.324, against a gateway.

Run by ``test_client_0x.py`` with the Python of a virtual environment that
holds letta-client 0.1.324 (it cannot share one with 1.12.1), so it imports
nothing but that client and the standard library:

    python client_0x.py <base url> sync|async

It prints one JSON object: each group of calls and ``"ok"`` or the
traceback of its first failed check. Each run needs an empty gateway.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from letta_client import AsyncLetta, Letta
from letta_client.core.api_error import ApiError

MISSING_FOLDER = "source-00000000-0000-4000-8000-000000000000"
MISSING_FILE = "file-00000000-0000-4000-8000-000000000000"
MARKDOWN = b"# Title\n\nSome words here.\n\n## Part\n\nMore words.\n"


async def done(value: Any) -> Any:
    """The same scenario drives both clients: the async one's calls are awaited."""
    return await value if inspect.isawaitable(value) else value


async def status_of(call: Callable[[], Any]) -> int:
    try:
        await done(call())
    except ApiError as exc:
        # A 422's body is parsed into the client's HttpValidationError.
        detail = exc.body.get("detail") if isinstance(exc.body, dict) else getattr(exc.body, "detail", None)
        assert detail, exc.body
        return exc.status_code or 0
    raise AssertionError("no error")


def upload(files: Any, parent: str, filename: str, data: bytes = b"some words", **params: Any) -> Any:
    return files.upload(parent, file=(filename, io.BytesIO(data)), **params)


async def processed(client: Any, source_id: str, file_id: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        meta = await done(client.sources.get_file_metadata(source_id, file_id, include_content=True))
        if meta.processing_status in ("completed", "error"):
            return meta
        assert time.monotonic() < deadline, meta.processing_status
        await asyncio.sleep(0.05)


async def folders(client: Any) -> None:
    assert await done(client.folders.count()) == 0
    folder = await done(client.folders.create(name="docs", description="d", embedding_chunk_size=64))
    assert folder.id.startswith("source-") and folder.embedding_config.embedding_chunk_size == 64
    assert (await done(client.folders.retrieve(folder.id))).name == "docs"
    assert await done(client.folders.retrieve_by_name("docs")) == folder.id
    modified = await done(client.folders.modify(folder.id, description="new", instructions="i"))
    assert (modified.name, modified.description, modified.instructions) == ("docs", "new", "i")
    other = await done(client.folders.create(name="other"))
    assert [f.id for f in await done(client.folders.list())] == [folder.id, other.id]
    assert [f.id for f in await done(client.folders.list(order="desc", limit=1))] == [other.id]
    assert [f.id for f in await done(client.folders.list(after=folder.id))] == [other.id]
    assert [f.id for f in await done(client.folders.list(name="other"))] == [other.id]
    assert await done(client.folders.count()) == 2
    assert await done(client.folders.agents.list(folder.id)) == []
    assert await done(client.folders.agents.list(folder.id, limit=10, order="asc")) == []
    assert await done(client.folders.passages.list(folder.id)) == []
    assert await done(client.folders.passages.list(folder.id, limit=10, order="desc")) == []
    stats = await done(client.folders.retrieve_metadata())
    assert (stats.total_sources, stats.total_files, stats.total_size, stats.sources) == (2, 0, 0, [])
    assert await status_of(lambda: client.folders.retrieve(MISSING_FOLDER)) == 404
    assert await status_of(lambda: client.folders.retrieve("source-1")) == 422
    assert await status_of(lambda: client.folders.retrieve_by_name("nope")) == 404
    assert await status_of(lambda: client.folders.create(name="docs")) == 409
    assert await status_of(lambda: client.folders.modify(MISSING_FOLDER, name="x")) == 404
    assert await status_of(lambda: client.folders.passages.list(MISSING_FOLDER)) == 404
    assert await done(client.folders.delete(other.id)) is None
    assert await status_of(lambda: client.folders.delete(other.id)) == 404
    assert await done(client.folders.count()) == 1


async def folder_files(client: Any) -> None:
    folder = await done(client.folders.create(name="files"))
    files = client.folders.files
    first = await done(upload(files, folder.id, "x.md", MARKDOWN, name="a/b/notes.md"))
    assert (first.file_name, first.original_file_name, first.source_id) == ("a/b/notes.md",) * 2 + (folder.id,)
    assert (await done(upload(files, folder.id, "a/b/notes.md"))).file_name == "a/b/notes_(1).md"
    skipped = await done(upload(files, folder.id, "a/b/notes.md", duplicate_handling="skip"))
    assert skipped.id == first.id
    assert await status_of(lambda: upload(files, folder.id, "a/b/notes.md", duplicate_handling="error")) == 400
    replaced = await done(upload(files, folder.id, "a/b/notes.md", MARKDOWN, duplicate_handling="replace"))
    assert replaced.id != first.id and replaced.file_name == "a/b/notes.md"
    listed = await done(files.list(folder.id, order="asc", limit=10))
    assert [f.file_name for f in listed] == ["a/b/notes_(1).md", "a/b/notes.md"]
    assert [f.id for f in await done(files.list(folder.id, after=listed[0].id, order="asc"))] == [replaced.id]
    meta = await processed(client, folder.id, replaced.id)
    assert meta.processing_status == "completed" and meta.total_chunks, meta
    assert meta.content and "Some words here." in meta.content
    with_content = await done(files.list(folder.id, include_content=True, limit=1))
    assert with_content[0].id == replaced.id and "More words." in with_content[0].content
    assert await status_of(lambda: upload(files, folder.id, "a/../x.txt")) == 400
    assert await status_of(lambda: upload(files, folder.id, "image.png")) == 415
    assert await status_of(lambda: upload(files, MISSING_FOLDER, "a.txt")) == 404
    assert await done(files.delete(folder.id, replaced.id)) is None
    assert await status_of(lambda: files.delete(folder.id, replaced.id)) == 404
    assert await status_of(lambda: files.delete(folder.id, "file-1")) == 422
    assert [f.file_name for f in await done(files.list(folder.id))] == ["a/b/notes_(1).md"]


async def sources(client: Any) -> None:
    before = await done(client.sources.count())
    source = await done(client.sources.create(name="old", metadata={"k": 1}))
    assert source.id.startswith("source-") and source.metadata == {"k": 1}
    assert await done(client.sources.count()) == before + 1
    assert (await done(client.sources.retrieve(source.id))).name == "old"
    assert (await done(client.folders.retrieve(source.id))).name == "old"  # the same folder
    assert await done(client.sources.retrieve_by_name("old")) == source.id
    assert source.id in [s.id for s in await done(client.sources.list())]
    assert (await done(client.sources.modify(source.id, name="renamed"))).name == "renamed"
    assert await done(client.folders.retrieve_by_name("renamed")) == source.id
    assert await done(client.sources.get_agents_for_source(source.id)) == []
    assert await done(client.sources.passages.list(source.id)) == []
    assert await done(client.sources.passages.list(source.id, limit=5)) == []
    assert await status_of(lambda: client.sources.retrieve(MISSING_FOLDER)) == 404
    assert await status_of(lambda: client.sources.retrieve("nope")) == 422
    assert await status_of(lambda: client.sources.retrieve_by_name("nope")) == 404
    assert await status_of(lambda: client.sources.get_agents_for_source(MISSING_FOLDER)) == 404
    assert await status_of(lambda: client.sources.create(name="renamed")) == 409
    assert await done(client.sources.delete(source.id)) is None
    assert await status_of(lambda: client.folders.retrieve(source.id)) == 404


async def source_files(client: Any) -> None:
    source = await done(client.sources.create(name="papers"))
    files = client.sources.files
    meta = await done(upload(files, source.id, "notes.md", MARKDOWN, name="x/notes.md"))
    assert meta.file_name == "x/notes.md" and meta.source_id == source.id
    copy = await done(upload(files, source.id, "x/notes.md", b"other"))
    assert copy.file_name == "x/notes_(1).md"
    listed = await done(files.list(source.id, limit=10, check_status_updates=False))
    assert sorted(f.id for f in listed) == sorted([meta.id, copy.id])
    assert [f.id for f in await done(files.list(source.id, limit=1))] == [copy.id]  # newest first
    done_meta = await processed(client, source.id, meta.id)
    assert done_meta.processing_status == "completed" and "More words." in done_meta.content
    plain = await done(client.sources.get_file_metadata(source.id, meta.id))
    assert plain.content is None and plain.file_size == len(MARKDOWN)
    folder_view = await done(client.folders.files.list(source.id, order="asc"))
    assert [f.id for f in folder_view] == [meta.id, copy.id]
    other = await done(client.sources.create(name="other-source"))
    assert await status_of(lambda: client.sources.get_file_metadata(other.id, meta.id)) == 404
    assert await status_of(lambda: client.sources.get_file_metadata(source.id, MISSING_FILE)) == 404
    assert await status_of(lambda: client.sources.get_file_metadata(source.id, "file-x")) == 422
    assert await status_of(lambda: files.list(MISSING_FOLDER)) == 404
    assert await done(files.delete(source.id, copy.id)) is None
    assert await status_of(lambda: files.delete(other.id, meta.id)) == 404
    assert [f.id for f in await done(files.list(source.id))] == [meta.id]


async def metadata(client: Any) -> None:
    """Run last: counts whatever the groups before left."""
    folder = await done(client.sources.create(name="zz-metadata"))
    await done(upload(client.sources.files, folder.id, "a.txt", b"12345"))
    for call in (client.sources.get_sources_metadata, client.folders.retrieve_metadata):
        totals = await done(call())
        detailed = await done(call(include_detailed_per_source_metadata=True))
        assert totals.sources == [] and detailed.total_files == totals.total_files
        assert totals.total_sources == len(detailed.sources) == await done(client.sources.count())
        assert totals.total_size == sum(s.total_size for s in detailed.sources)
        last = detailed.sources[-1]  # by name
        assert (last.source_id, last.file_count, last.total_size) == (folder.id, 1, 5)
        assert [(f.file_name, f.file_size) for f in last.files] == [("a.txt", 5)]


GROUPS: list[Callable[[Any], Awaitable[None]]] = [folders, folder_files, sources, source_files, metadata]


async def main(base_url: str, mode: str) -> dict[str, str]:
    client = (Letta if mode == "sync" else AsyncLetta)(base_url=base_url, token="unused")
    results = {}
    for group in GROUPS:
        try:
            await group(client)
            results[group.__name__] = "ok"
        except Exception:
            results[group.__name__] = traceback.format_exc()
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
