"""Text out of an uploaded file, piece by piece.

Text types are decoded as UTF-8 as they stream (invalid bytes become U+FFFD
rather than failing the file): linear, cheap work, done here. Everything
else (PDF, HTML, Office documents, EPUBs) is read by a child process with
bounded memory, CPU and wall-clock time (``documents.py``), from the local
file or from a temporary file on disk (a PDF cannot be parsed front to
back), never from memory, its text streamed back as it comes. The child is
killed when its reader stops early or is cancelled (the file's time or text
limit, a shutdown), so no extraction outlives the worker that asked for it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO

from backends import Blob

from . import documents
from .filetypes import Reader


@dataclass(frozen=True)
class ChildLimits:
    """Bounds of one child's extraction (see ``documents.py``)."""

    memory: int = 1024 * 1024 * 1024
    cpu_seconds: int = 60
    wall_seconds: float = 120


class ExtractionError(Exception):
    """The file is not what its type says (corrupt PDF and the like)."""


def extract(reader: Reader, blob: Blob, limits: ChildLimits = ChildLimits()) -> AsyncIterator[str]:
    if reader == "text":
        return _decoded(blob)
    return _in_child(blob, reader, limits)


async def _decoded(blob: Blob) -> AsyncIterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    async for chunk in blob.stream():
        if text := decoder.decode(chunk):
            yield text
    if text := decoder.decode(b"", final=True):
        yield text


@contextlib.asynccontextmanager
async def _local_file(blob: Blob) -> AsyncIterator[BinaryIO]:
    """The blob as a file from its start: its own file on local disk (a
    duplicate descriptor, closed with this file object, not the blob's; the
    two share a position, which the blob never uses: it reads with pread),
    or a spool."""
    if blob.file is not None:
        with open(os.dup(blob.file.fileno()), "rb") as file:
            file.seek(0)
            yield file
        return
    with tempfile.TemporaryFile() as spool:
        async for chunk in blob.stream():
            await asyncio.to_thread(spool.write, chunk)
        await asyncio.to_thread(spool.flush)
        spool.seek(0)
        yield spool


async def _in_child(blob: Blob, kind: str, limits: ChildLimits) -> AsyncIterator[str]:
    async with _local_file(blob) as file:
        async for text in document_text(file, kind, limits):
            yield text


async def document_text(file: BinaryIO, kind: str, limits: ChildLimits = ChildLimits()) -> AsyncIterator[str]:
    """The text of the document in ``file`` (read from its current position
    by a child process); ExtractionError when it cannot be read in the bounds."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-I", documents.__file__, kind, str(limits.memory), str(limits.cpu_seconds),
        stdin=file, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    reason = asyncio.create_task(_tail(child.stderr))
    killer = asyncio.get_running_loop().call_later(limits.wall_seconds, child.kill)
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
            f"The document could not be extracted within {limits.wall_seconds:g} s, {limits.cpu_seconds} s of CPU "
            f"and {limits.memory // 2**20} MiB of memory"
        )
    if status:
        raise ExtractionError(message.splitlines()[-1])


async def _tail(stream: asyncio.StreamReader, keep: int = 4096) -> bytes:
    """What a child wrote to ``stream``, its last ``keep`` bytes."""
    tail = b""
    while chunk := await stream.read(65536):
        tail = (tail + chunk)[-keep:]
    return tail
