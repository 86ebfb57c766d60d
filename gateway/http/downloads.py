"""Serving one stored object with the HTTP semantics done right.

The rules follow aiohttp's ``FileResponse`` (ETag, If-Match/If-None-Match,
If-(Un)Modified-Since, a single Range, HEAD, sendfile) but work from a
backend ``Blob``, so memory, local and S3 objects behave the same. We do not
use ``FileResponse`` itself for local files: it would serve a stored
``name.gz`` sibling in place of ``name`` to a client accepting gzip, and it
answers errors in plain text rather than in the API family's format.

Where RFC 9110 leaves a choice: a Range header we cannot parse, or with
several ranges, is ignored (200 with the whole object); a syntactically valid
range that starts past the end is 416 with ``Content-Range: bytes */size``.

Uploaded files are served from the gateway's own origin, so every response
carries ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy:
sandbox``: an uploaded HTML or SVG file shows, but its scripts do not run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import quote

from aiohttp import hdrs, web
from aiohttp.helpers import ETag, parse_http_date

from backends import ObjectChanged
from backends.base import Blob

from .errors import ApiError

OPEN_ATTEMPTS = 3


def content_disposition(filename: str, disposition: str = "inline") -> str:
    return f"{disposition}; filename*=UTF-8''{quote(filename, safe='')}"


async def send_object(
    request: web.Request,
    open_blob: Callable[[], AbstractAsyncContextManager[Blob]],
    *,
    filename: str,
    content_type: str,
    cache_control: str = "no-cache",
    attempts: int = OPEN_ATTEMPTS,
) -> web.StreamResponse:
    """Open the object and send it as the whole response, inside the handler.

    The body streams while the blob is open, and an error raised before the
    headers go out (412, 416, a missing object) still reaches the family's
    error middleware. A version replaced between open and read (S3) is
    opened again, ``attempts`` times at most.
    """
    for _ in range(attempts):
        with contextlib.suppress(ObjectChanged):
            async with open_blob() as blob:
                response = ObjectResponse(
                    blob, filename=filename, content_type=content_type, cache_control=cache_control
                )
                await response.send(request)
                return response
    raise ApiError(503, "The file is being replaced; try again", headers={"Retry-After": "1"})


class ObjectResponse(web.StreamResponse):
    """The response to a GET or HEAD of one object version."""

    def __init__(self, blob: Blob, *, filename: str, content_type: str, cache_control: str = "no-cache") -> None:
        super().__init__()
        self._blob = blob
        info = blob.info
        self.content_type = content_type
        self.etag = info.etag
        self.last_modified = info.modified
        self.headers.update(
            {
                hdrs.CONTENT_DISPOSITION: content_disposition(filename),
                hdrs.CACHE_CONTROL: cache_control,
                hdrs.ACCEPT_RANGES: "bytes",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
            }
        )

    def _check_preconditions(self, request: web.BaseRequest) -> bool:
        """Raise 412 or return True for 304, per RFC 9110 section 13.2.2."""
        etag = self._blob.info.etag
        seconds = int(self._blob.info.modified)  # HTTP dates have no fractions
        if_match = request.if_match
        if if_match is not None and not _etag_match(etag, if_match, weak=False):
            raise _precondition_failed()
        since = request.if_unmodified_since
        if if_match is None and since is not None and seconds > since.timestamp():
            raise _precondition_failed()
        if_none_match = request.if_none_match
        if if_none_match is not None:
            return _etag_match(etag, if_none_match, weak=True)
        if (since := request.if_modified_since) is not None:
            return seconds <= since.timestamp()
        return False

    def _byte_range(self, request: web.BaseRequest) -> tuple[int, int] | None:
        """The (start, end) to send as 206, or None for the whole object."""
        if hdrs.RANGE not in request.headers or not self._if_range_holds(request):
            return None
        try:
            requested = request.http_range
        except ValueError:
            return None
        size = self._blob.info.size
        start, end = requested.start, requested.stop
        if start is not None and start < 0:  # a suffix: the last -start bytes
            start, end = max(size + start, 0), size
        assert start is not None
        end = size if end is None else min(end, size)
        if start >= size:
            raise ApiError(
                416,
                f"Range not satisfiable: the object has {size} bytes",
                headers={hdrs.CONTENT_RANGE: f"bytes */{size}"},
            )
        return start, end

    def _if_range_holds(self, request: web.BaseRequest) -> bool:
        value = request.headers.get(hdrs.IF_RANGE)
        if value is None:
            return True
        if value.startswith(('"', "W/")):
            return value == f'"{self._blob.info.etag}"'  # strong comparison only
        date = parse_http_date(value)
        return date is not None and int(self._blob.info.modified) <= date.timestamp()

    async def send(self, request: web.BaseRequest) -> None:
        """Answer ``request`` completely: headers, then the body if any."""
        if self._check_preconditions(request):
            self.set_status(304)
            await self.prepare(request)
            return
        size = self._blob.info.size
        byte_range = self._byte_range(request)
        start, end = byte_range or (0, size)
        if byte_range is not None:
            self.set_status(206)
            self.headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end - 1}/{size}"
        self.content_length = end - start
        if request.method == hdrs.METH_HEAD or start == end:
            await self.prepare(request)
        elif self._blob.file is not None and request.transport is not None:
            await self.prepare(request)
            await self._sendfile(request, start, end)
        else:
            chunks = self._blob.stream(start, end)
            first = await anext(chunks)  # ObjectChanged here still gets an error response
            await self.prepare(request)
            await self.write(first)
            async for chunk in chunks:
                await self.write(chunk)
        await self.write_eof()

    async def _sendfile(self, request: web.BaseRequest, start: int, end: int) -> None:
        assert self._blob.file is not None and request.transport is not None
        try:
            await asyncio.get_running_loop().sendfile(request.transport, self._blob.file, start, end - start)
        except NotImplementedError:  # e.g. TLS: plain writes instead
            async for chunk in self._blob.stream(start, end):
                await self.write(chunk)


def _etag_match(value: str, candidates: tuple[ETag, ...], *, weak: bool) -> bool:
    return any(candidate.value in (value, "*") and (weak or not candidate.is_weak) for candidate in candidates)


def _precondition_failed() -> ApiError:
    return ApiError(412, "Precondition failed: the object has changed")
