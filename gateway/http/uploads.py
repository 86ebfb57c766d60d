"""Streaming multipart uploads with a size limit enforced while streaming.

aiohttp's ``client_max_size`` only guards bodies read whole; a multipart
part read chunk by chunk is bounded here instead, so the limit holds however
the client frames the body (Content-Length or chunked).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

from .errors import ApiError, bad_request

CHUNK_SIZE = 256 * 1024
#: Room for the multipart boundaries and part headers around the file bytes.
MULTIPART_OVERHEAD = 64 * 1024


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"File too large: the limit is {limit} bytes", kind="bad_request")


@dataclass
class FilePart:
    """The ``file`` field of a multipart upload, not yet read."""

    filename: str
    content_type: str | None
    part: BodyPartReader

    async def chunks(self, limit: int) -> AsyncIterator[bytes]:
        """Yield the part's bytes; raise 413 as soon as they exceed ``limit``."""
        received = 0
        while True:
            try:
                chunk = await self.part.read_chunk(CHUNK_SIZE)
            except ValueError as exc:
                raise bad_request(f"Malformed multipart body: {exc}") from exc
            if not chunk:
                if not self.part.at_eof():
                    raise bad_request("Malformed multipart body: it ends before the closing boundary")
                return
            received += len(chunk)
            if received > limit:
                raise too_large(limit)
            yield chunk


async def file_part(request: web.Request, limit: int, field: str = "file") -> FilePart:
    """Find the multipart field ``field``, skipping (bounded) fields before it."""
    if request.content_length is not None and request.content_length > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)
    if request.content_type != "multipart/form-data":
        raise bad_request(f"Expected a multipart/form-data body with a '{field}' field")
    skipped = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue  # a nested multipart is never our file
            if part.name == field:
                if part.filename is None:
                    raise bad_request(f"The '{field}' field has no filename")
                return FilePart(part.filename, part.headers.get("Content-Type"), part)
            while chunk := await part.read_chunk(CHUNK_SIZE):
                skipped += len(chunk)
                if skipped > MULTIPART_OVERHEAD:
                    raise bad_request(f"Other form fields may hold {MULTIPART_OVERHEAD} bytes at most")
    except (ValueError, AssertionError) as exc:
        raise bad_request(f"Malformed multipart body: {exc}") from exc
    raise bad_request(f"Missing multipart field '{field}'")
