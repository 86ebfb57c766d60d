"""Text out of an uploaded file, piece by piece, and chunks of that text.

Text types are decoded as UTF-8 as they stream (invalid bytes become U+FFFD
rather than failing the file); HTML goes through the standard library's
incremental parser, without scripts and styles; PDF goes through ``pypdf``
in a worker thread, from the local file or from a temporary file on disk
(a PDF cannot be parsed front to back), never from memory; its pages' text
comes at once when the thread is done (text a few times smaller than the
PDF). Office documents are spooled to a temporary file too and read by a
child process with bounded memory, CPU and wall-clock time (``office.py``),
their text streamed back as it comes.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import BinaryIO

import pypdf
import pypdf.errors

from backends import Blob

from . import office
from .filetypes import Reader

#: Bounds of one Office document's extraction (see ``office.py``).
OFFICE_MEMORY = 1024 * 1024 * 1024
OFFICE_CPU_SECONDS = 60
OFFICE_WALL_SECONDS = 120

#: HTML elements whose end starts a new line of text.
BLOCKS = {
    "title", "p", "div", "li", "dt", "dd", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "nav", "aside", "main", "blockquote", "pre", "table", "ul", "ol", "figcaption",
}  # fmt: skip
#: Elements whose end separates words.
CELLS = {"td", "th", "label", "option"}


class ExtractionError(Exception):
    """The file is not what its type says (corrupt PDF and the like)."""


def extract(reader: Reader, blob: Blob) -> AsyncIterator[str]:
    if reader in office.READERS:
        return _office(blob, reader)
    return {"text": _decoded, "html": _html, "pdf": _pdf}[reader](blob)


async def _decoded(blob: Blob) -> AsyncIterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    async for chunk in blob.stream():
        if text := decoder.decode(chunk):
            yield text
    if text := decoder.decode(b"", final=True):
        yield text


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "template"):
            self.hidden += 1
        elif tag == "br":
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.pieces.append("\n")
        elif tag in CELLS:
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.pieces.append(data)

    def take(self) -> str:
        text, self.pieces = "".join(self.pieces), []
        return text


async def _html(blob: Blob) -> AsyncIterator[str]:
    parser = _HTMLText()
    async for text in _decoded(blob):
        parser.feed(text)
        if piece := parser.take():
            yield piece
    parser.close()
    if piece := parser.take():
        yield piece


async def _pdf(blob: Blob) -> AsyncIterator[str]:
    if blob.file is not None:
        # Our own descriptor: the blob's file position is not ours to move.
        with open(os.dup(blob.file.fileno()), "rb") as file:
            for page in await asyncio.to_thread(_pdf_pages, file):
                yield page
        return
    with tempfile.TemporaryFile() as spool:
        async for chunk in blob.stream():
            await asyncio.to_thread(spool.write, chunk)
        for page in await asyncio.to_thread(_pdf_pages, spool):
            yield page


def _pdf_pages(file: BinaryIO) -> list[str]:
    file.seek(0)
    try:
        reader = pypdf.PdfReader(file)
        if reader.is_encrypted:
            raise ExtractionError("The PDF is encrypted")
        return [(page.extract_text() or "") + "\n\n" for page in reader.pages]
    except (pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # pypdf reports damaged files with these as well as its own errors.
        raise ExtractionError(f"The PDF cannot be read: {exc or type(exc).__name__}") from exc


async def _office(blob: Blob, kind: str) -> AsyncIterator[str]:
    with tempfile.TemporaryFile() as spool:
        async for chunk in blob.stream():
            await asyncio.to_thread(spool.write, chunk)
        await asyncio.to_thread(spool.flush)
        spool.seek(0)
        async for text in office_text(spool, kind):
            yield text


async def office_text(
    file: BinaryIO,
    kind: str,
    memory: int = OFFICE_MEMORY,
    cpu_seconds: int = OFFICE_CPU_SECONDS,
    wall_seconds: float = OFFICE_WALL_SECONDS,
) -> AsyncIterator[str]:
    """The text of the Office document in ``file`` (read from its start by
    a child process); ExtractionError when it cannot be read in the bounds."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-I", office.__file__, kind, str(memory), str(cpu_seconds),
        stdin=file, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    reason = asyncio.create_task(_tail(child.stderr))
    killer = asyncio.get_running_loop().call_later(wall_seconds, child.kill)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while chunk := await child.stdout.read(64 * 1024):
            if text := decoder.decode(chunk):
                yield text
        status = await child.wait()
        message = (await reason).decode(errors="replace").strip()
    finally:
        killer.cancel()
        if child.returncode is None:  # the consumer stopped early, or we were cancelled
            child.kill()
            await asyncio.shield(child.wait())
        reason.cancel()
    if status < 0 or (status and not message):  # killed: by the wall clock or a limit
        raise ExtractionError(
            f"The document could not be extracted within {wall_seconds:g} s, {cpu_seconds} s of CPU "
            f"and {memory // 2**20} MiB of memory"
        )
    if status:
        raise ExtractionError(message.splitlines()[-1])


async def _tail(stream: asyncio.StreamReader, keep: int = 4096) -> bytes:
    """What a child wrote to ``stream``, its last ``keep`` bytes."""
    tail = b""
    while chunk := await stream.read(65536):
        tail = (tail + chunk)[-keep:]
    return tail
