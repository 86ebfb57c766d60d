"""Serving one stored object with the HTTP semantics done right.

The rules follow aiohttp's ``FileResponse`` (ETag, If-Match/If-None-Match,
If-(Un)Modified-Since, a single Range, HEAD, sendfile) but work from a
backend ``Blob``, so memory, local and S3 objects behave the same. We do not
use ``FileResponse`` itself for local files: it would serve a stored
``name.gz`` sibling in place of ``name`` to a client accepting gzip, and it
answers errors in plain text rather than in the API family's format.

Where RFC 9110 leaves a choice: a Range header we cannot parse, or with
several ranges, is ignored (200 with the whole object); a syntactically valid
range that starts past the end, or the empty suffix ``bytes=-0``, is 416 with
``Content-Range: bytes */size``.

Uploaded files are served from the gateway's own origin, so every response
carries ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy:
sandbox``: an uploaded HTML or SVG file shows, but its scripts do not run;
``Referrer-Policy: no-referrer`` keeps its links from leaking the (maybe
signed) URL it was opened by.

Caching: a plain URL is revalidated every time (``no-cache`` with the
ETag); a URL naming the version it was handed out for (``?v=``, see
``version_tag``) is cached for a year as ``immutable`` when it is still that
version, since a new version gets a new URL.

A client that goes away mid-body (a cut download; browsers drop a video's
``bytes=0-`` request as soon as they know its size) is no server fault: the
body stops, and the response is marked ``CLIENT_GONE`` for the access log
and metrics, which count it as 499 (nginx's "client closed request"). A
storage that fails once the headers are out (S3 going away mid-download)
cannot be told in a status any more: the connection is closed at once, so
the client sees a cut transfer rather than waiting for bytes that will not
come, and logs and metrics count a 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from urllib.parse import quote

from aiohttp import hdrs, web
from aiohttp.helpers import ETag, parse_http_date

from backends import Blob, ObjectChanged, ObjectInfo, StorageError

from .errors import ApiError

log = logging.getLogger(__name__)
OPEN_ATTEMPTS = 3
REVALIDATE = "no-cache"
YEAR = 365 * 24 * 3600
#: Bytes of the body actually sent, sendfile included.
BODY_SENT = web.ResponseKey("body_sent", int)
#: Set when the client went away before the whole body was sent.
CLIENT_GONE = web.ResponseKey("client_gone", bool)
CLIENT_CLOSED_STATUS = 499
#: Set when the storage failed after the headers went out.
CUT_SHORT = web.ResponseKey("cut_short", bool)
EMPTY_SUFFIX = re.compile(r"bytes=\s*-0+\s*")


def content_disposition(filename: str, disposition: str = "inline") -> str:
    """RFC 6266: ``filename*`` for clients that read it, and an ASCII
    ``filename`` for those that do not (``curl -OJ``): accents dropped,
    anything else non-ASCII, quotes, backslashes and ``%`` as ``_``."""
    decomposed = unicodedata.normalize("NFKD", filename)
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\%' else "_"
        for c in decomposed
        if not unicodedata.combining(c)
    )
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def version_tag(etag: str) -> str:
    """The ``v`` of a URL handed out for this version of a file: short,
    URL-safe, and says nothing of the content."""
    return hashlib.blake2b(etag.encode(), digest_size=8).hexdigest()


def cache_control(named: str | None, etag: str, *, private: bool) -> str:
    """Cached for long if the URL names this version (``named``), else
    revalidated. ``private`` where API keys guard the files, so that shared
    caches keep nothing."""
    if named is None or named != version_tag(etag):
        return REVALIDATE
    return f"{'private' if private else 'public'}, max-age={YEAR}, immutable"


def body_bytes(method: str, response: web.StreamResponse) -> int:
    """Bytes of the body sent, for logs and metrics."""
    if BODY_SENT in response:
        return response[BODY_SENT]
    if method == hdrs.METH_HEAD:
        return 0
    return response.content_length or 0


def status_for_logs(response: web.StreamResponse) -> int:
    if response.get(CUT_SHORT):
        return 503
    return CLIENT_CLOSED_STATUS if response.get(CLIENT_GONE) else response.status


async def send_object(
    request: web.Request,
    open_blob: Callable[[], AbstractAsyncContextManager[Blob]],
    *,
    filename: str,
    content_type: str,
    caching: Callable[[ObjectInfo], str] = lambda info: REVALIDATE,
    headers: Mapping[str, str] | None = None,
    attempts: int = OPEN_ATTEMPTS,
) -> web.StreamResponse:
    """Open the object and send it as the whole response, inside the handler.

    The body streams while the blob is open, and an error raised before the
    headers go out (412, 416, a missing object) still reaches the family's
    error middleware. A version replaced between open and read (S3) is
    opened again, ``attempts`` times at most. ``caching`` gives the
    ``Cache-Control`` of the version opened.
    """
    for _ in range(attempts):
        with contextlib.suppress(ObjectChanged):
            async with open_blob() as blob:
                response = ObjectResponse(
                    blob, filename=filename, content_type=content_type, cache_control=caching(blob.info)
                )
                response.headers.update(headers or {})
                await response.send(request)
                return response
    raise ApiError(503, "The file is being replaced; try again", headers={"Retry-After": "1"})


class ObjectResponse(web.StreamResponse):
    """The response to a GET or HEAD of one object version."""

    def __init__(self, blob: Blob, *, filename: str, content_type: str, cache_control: str = REVALIDATE) -> None:
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
                "Referrer-Policy": "no-referrer",
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
        size = self._blob.info.size
        if EMPTY_SUFFIX.fullmatch(request.headers[hdrs.RANGE]):
            raise _not_satisfiable(size)  # "the last 0 bytes", which aiohttp reads as "from byte 0"
        try:
            requested = request.http_range
        except ValueError:
            return None
        start, end = requested.start, requested.stop
        if start is not None and start < 0:  # a suffix: the last -start bytes
            start, end = max(size + start, 0), size
        assert start is not None
        end = size if end is None else min(end, size)
        if start >= size:
            raise _not_satisfiable(size)
        return start, end

    def _if_range_holds(self, request: web.BaseRequest) -> bool:
        value = request.headers.get(hdrs.IF_RANGE)
        if value is None:
            return True
        if value.startswith(('"', "W/")):
            return value == f'"{self._blob.info.etag}"'  # strong comparison only
        date = parse_http_date(value)  # RFC 9110 13.1.5: an exact match of Last-Modified
        return date is not None and int(self._blob.info.modified) == date.timestamp()

    async def send(self, request: web.BaseRequest) -> None:
        """Answer ``request`` completely: headers, then the body if any.
        Everything written, the headers too, goes through ``_until_gone``:
        a client may leave while the object is being opened."""
        if self._check_preconditions(request):
            self.set_status(304)
            await self._until_gone(self.prepare(request), request)
            return
        size = self._blob.info.size
        byte_range = self._byte_range(request)
        start, end = byte_range or (0, size)
        if byte_range is not None:
            self.set_status(206)
            self.headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end - 1}/{size}"
        self.content_length = end - start
        self[BODY_SENT] = 0
        if request.method == hdrs.METH_HEAD or start == end:
            await self._until_gone(self.prepare(request), request)
        elif self._blob.file is not None and request.transport is not None:
            await self._until_gone(self._sendfile(request, start, end), request)
        else:
            async with contextlib.aclosing(self._blob.stream(start, end)) as chunks:
                first = await anext(chunks)  # ObjectChanged here still gets an error response
                await self._until_gone(self._write_all(request, first, chunks), request)
        if not (self.get(CLIENT_GONE) or self.get(CUT_SHORT)):
            await self._until_gone(self.write_eof(), request)

    async def _until_gone(self, sending: Awaitable[object], request: web.BaseRequest) -> None:
        """Send; see the module's docstring for what ends it early."""
        try:
            await sending
        except ConnectionError:
            self[CLIENT_GONE] = True
        except StorageError as exc:
            log.warning("storage failed mid-download of %s, connection closed: %s", request.path, exc)
            self[CUT_SHORT] = True
            if request.transport is not None:
                request.transport.close()

    async def _write_all(self, request: web.BaseRequest, first: bytes, rest: AsyncIterator[bytes]) -> None:
        await self.prepare(request)
        await self.write(first)
        self[BODY_SENT] += len(first)
        async for chunk in rest:
            await self.write(chunk)
            self[BODY_SENT] += len(chunk)

    async def _sendfile(self, request: web.BaseRequest, start: int, end: int) -> None:
        """The kernel sends the file (asyncio falls back to reads and writes
        by itself where it cannot, under TLS)."""
        assert self._blob.file is not None and request.transport is not None
        await self.prepare(request)
        self[BODY_SENT] = await asyncio.get_running_loop().sendfile(
            request.transport, self._blob.file, start, end - start
        )


def _etag_match(value: str, candidates: tuple[ETag, ...], *, weak: bool) -> bool:
    return any(candidate.value in (value, "*") and (weak or not candidate.is_weak) for candidate in candidates)


def _not_satisfiable(size: int) -> ApiError:
    return ApiError(
        416, f"Range not satisfiable: the object has {size} bytes", headers={hdrs.CONTENT_RANGE: f"bytes */{size}"}
    )


def _precondition_failed() -> ApiError:
    return ApiError(412, "Precondition failed: the object has changed")
