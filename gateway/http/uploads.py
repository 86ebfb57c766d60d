"""Streaming multipart uploads with a size limit enforced while streaming.

aiohttp's ``client_max_size`` only guards bodies read whole; a multipart
part read chunk by chunk is bounded here instead, so the limit holds however
the client frames the body (Content-Length or chunked).

Whatever aiohttp's multipart reader raises while it parses the client's
bytes (``ValueError``, ``RuntimeError`` for an unknown ``_charset_``, its
own ``BadHttpMessage`` for a header line it cannot read, and whatever the
next aiohttp release adds) is a malformed body, a 400, never a server
fault: the reader parses nothing but what the client sent. Fields before the
file's are bounded in number and bytes, so no body keeps the loop busy.
An ``ApiError`` raised into the body reads (a body that stopped coming, see
``server.py``) passes through as it is.

Every upload route takes ``expect_upload`` as its ``expect_handler``, so a
client that asks before sending (``Expect: 100-continue``) a body that
cannot fit is answered 413 without ever being told to send it, and its
handler takes the file through ``receiving``: the size limit, the family's
name rules and the uploads-in-progress gauge, the same for both families.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.web_urldispatcher import _default_expect_handler

from ..metrics import METRICS
from ..state import SETTINGS
from .errors import ApiError, bad_request
from .filenames import from_form

CHUNK_SIZE = 256 * 1024
#: Room for the multipart boundaries and part headers around the file bytes.
MULTIPART_OVERHEAD = 64 * 1024
LEADING_SEPARATORS = re.compile(r'filename="([\\/]+)')
#: Form fields read before the file's, at most.
MAX_FIELDS_BEFORE_FILE = 16


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"File too large: the limit is {limit} bytes", kind="bad_request")


def malformed(exc: Exception) -> ApiError:
    return bad_request(f"Malformed multipart body: {str(exc).strip() or type(exc).__name__}")


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
            except ApiError:
                raise
            except Exception as exc:  # see the module's docstring
                raise malformed(exc) from exc
            if not chunk:
                if not self.part.at_eof():
                    raise bad_request("Malformed multipart body: it ends before the closing boundary")
                return
            received += len(chunk)
            if received > limit:
                raise too_large(limit)
            yield chunk


def _as_sent(part: BodyPartReader) -> str:
    """The part's filename with the leading ``/`` and ``\\`` aiohttp strips
    from a quoted one put back, so that the name rules refuse ``"/abs.txt"``
    rather than store ``abs.txt``."""
    assert part.filename is not None
    stripped = LEADING_SEPARATORS.search(part.headers.get(hdrs.CONTENT_DISPOSITION, ""))
    return (stripped.group(1) if stripped else "") + part.filename


async def file_part(request: web.Request, limit: int, field: str = "file") -> FilePart:
    """Find the multipart field ``field``, skipping (bounded) fields before it."""
    if over_limit(request, limit):
        raise too_large(limit)
    if request.content_type != "multipart/form-data":
        raise bad_request(f"Expected a multipart/form-data body with a '{field}' field")
    skipped = 0
    try:
        reader = await request.multipart()
        for _ in range(MAX_FIELDS_BEFORE_FILE + 1):
            if (part := await reader.next()) is None:
                raise bad_request(f"Missing multipart field '{field}'")
            if not isinstance(part, BodyPartReader):
                continue  # a nested multipart is never our file
            if part.name == field:
                if part.filename is None:
                    raise bad_request(f"The '{field}' field has no filename")
                return FilePart(_as_sent(part), part.headers.get("Content-Type"), part)
            while chunk := await part.read_chunk(CHUNK_SIZE):
                skipped += len(chunk)
                if skipped > MULTIPART_OVERHEAD:
                    raise bad_request(f"Other form fields may hold {MULTIPART_OVERHEAD} bytes at most")
    except ApiError:
        raise
    except Exception as exc:  # see the module's docstring
        raise malformed(exc) from exc
    raise bad_request(f"At most {MAX_FIELDS_BEFORE_FILE} form fields may come before '{field}'")


@dataclass
class Upload:
    """The file of an upload: its name checked, its bytes still to come."""

    name: str
    content_type: str | None
    chunks: AsyncIterator[bytes]


@contextlib.asynccontextmanager
async def receiving(request: web.Request, name_of: Callable[[str], str]) -> AsyncIterator[Upload]:
    """The request's ``file`` part within the upload limit, named by
    ``name_of`` (the family's rules, given the name the client sent, which
    they check or refuse), and counted as an upload in progress while the
    body runs (where the bytes are read and stored)."""
    limit = request.config_dict[SETTINGS].max_upload_bytes
    part = await file_part(request, limit)
    name = name_of(from_form(part.filename))
    with request.config_dict[METRICS].uploads_in_progress.track_inprogress():
        yield Upload(name, part.content_type, part.chunks(limit))


def over_limit(request: web.Request, limit: int) -> bool:
    """Whether the body's declared length is more than any upload of at most
    ``limit`` bytes needs."""
    return request.content_length is not None and request.content_length > limit + MULTIPART_OVERHEAD


async def expect_upload(request: web.Request) -> None:
    """``100 Continue`` only for a body that may fit. aiohttp runs a route's
    expect handler before any middleware; for a body over the limit it sends
    nothing, and the route's own check (``file_part``) answers the 413, in
    the family's format and through the middlewares (auth, metrics, access
    log) like any other answer. Other expectations: aiohttp's 417."""
    if not over_limit(request, request.config_dict[SETTINGS].max_upload_bytes):
        await _default_expect_handler(request)
