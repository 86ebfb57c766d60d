"""Processing of uploaded files to ``completed`` (or ``error``), through the
official letta-client, on every backend."""

from __future__ import annotations

import io
import json

import pytest
from letta_client import Letta

from gateway.folders.chunking import Chunker

from ..letta_client import letta, processed
from .documents import pdf_of

LOREM = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau"


def words(text: str) -> list[str]:
    return text.split()


def upload(client: Letta, folder_id: str, name: str, data: bytes):
    return client.folders.files.upload(folder_id, file=(name, io.BytesIO(data)))


CASES = {
    "notes.txt": ("héllo wörld\nsecond line ✓\n".encode(), "héllo wörld\nsecond line ✓\n"),
    "readme.md": (b"# Title\n\nSome *markdown* text.\n", "# Title\n\nSome *markdown* text.\n"),
    "data.json": (json.dumps({"key": ["v1", 2]}).encode(), '{"key": ["v1", 2]}'),
    "table.csv": (b"name,count\napples,3\npears,5\n", "name,count\napples,3\npears,5\n"),
    "bom.txt": (b"\xef\xbb\xbfafter the BOM", "after the BOM"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_types_complete_with_their_content(client: Letta, folder_id: str, name: str) -> None:
    data, text = CASES[name]
    meta = processed(client, folder_id, upload(client, folder_id, name, data).id)
    assert (meta.processing_status, meta.error_message) == ("completed", None)
    assert meta.content == text
    assert (meta.total_chunks, meta.chunks_embedded) == (1, 0)
    listed = client.folders.files.list(folder_id, include_content=True).items
    assert [f.content for f in listed] == [text]
    assert client.folders.files.list(folder_id).items[0].content is None


def test_html_becomes_text(client: Letta, folder_id: str) -> None:
    html = (
        b"<!doctype html><html><head><title>T</title><style>p {color: red}</style>"
        b"<script>var hidden = 1;</script></head><body><h1>Heading</h1><p>First &amp; para</p>"
        b"<div>Second<br>line</div><table><tr><td>c1</td><td>c2</td></tr></table></body></html>"
    )
    meta = processed(client, folder_id, upload(client, folder_id, "page.html", html).id)
    assert meta.processing_status == "completed"
    assert words(meta.content) == ["T", "Heading", "First", "&", "para", "Second", "line", "c1", "c2"]
    assert "\n" in meta.content and "hidden" not in meta.content and "color" not in meta.content


def test_pdf_text_is_extracted(client: Letta, folder_id: str) -> None:
    pages = [f"Page {n} says {LOREM}" for n in range(1, 4)]
    meta = processed(client, folder_id, upload(client, folder_id, "doc.pdf", pdf_of(pages)).id)
    assert (meta.processing_status, meta.file_type) == ("completed", "application/pdf")
    assert words(meta.content) == words(" ".join(pages))


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\nthis is not really a pdf", b"not a pdf at all", None],
    ids=["garbage-after-header", "no-header", "truncated"],
)
def test_corrupt_pdf_ends_in_error(client: Letta, folder_id: str, data: bytes | None) -> None:
    if data is None:
        whole = pdf_of([LOREM])
        data = whole[: len(whole) // 3]
    meta = processed(client, folder_id, upload(client, folder_id, "bad.pdf", data).id)
    assert meta.processing_status == "error"
    assert meta.error_message.startswith("The PDF cannot be read")
    # The gateway goes on: the next file completes.
    assert processed(client, folder_id, upload(client, folder_id, "ok.txt", b"fine").id).processing_status == (
        "completed"
    )


def test_chunks_follow_the_folder_chunk_size(client: Letta) -> None:
    folder = client.folders.create(name="small chunks", embedding_chunk_size=100)
    text = " ".join(f"w{i}" for i in range(1000))
    meta = processed(client, folder.id, upload(client, folder.id, "words.txt", text.encode()).id)
    # 100 tokens a chunk (a word is two or three), overlapping by 20.
    chunker = Chunker(100)
    assert meta.total_chunks == len(chunker.feed(text) + chunker.close()) > 20
    assert meta.chunks_embedded == 0


def test_deleted_while_pending_never_comes_back(start_gateway, backend_kind: str) -> None:
    """A file deleted before its processing ran leaves nothing behind."""
    client = letta(start_gateway(processing_workers=0))
    folder = client.folders.create(name="gone")
    meta = upload(client, folder.id, "a.txt", b"text")
    client.folders.files.delete(meta.id, folder_id=folder.id)
    if backend_kind == "memory":
        return  # a restart would lose the memory storage
    worker = letta(start_gateway())
    assert worker.folders.files.list(folder.id).items == []
