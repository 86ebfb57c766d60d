"""Compressed JSON and text answers (listings, ``/openapi.json``, errors).

Brotli when the client accepts ``br``, else gzip when it accepts that. Only
whole bodies of JSON and text responses of at least ``MIN_BYTES`` are
compressed, here, before they are sent, so their ``Content-Length`` (and
the byte counts of logs and metrics) is what goes on the wire. Downloads
and thumbnails stream from storage as ``ObjectResponse``\\s and are never
compressed: ranges would no longer address the file's bytes, and media is
compressed already. aiohttp's own ``enable_compression`` is not used: it has
no Brotli and chooses by substring, so ``gzip;q=0`` would get gzip.
"""

from __future__ import annotations

import asyncio
import gzip

import brotli
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from .accept import vary, weights

MIN_BYTES = 1024
#: Bodies above this are compressed in a worker thread, off the event loop.
INLINE_BYTES = 64 * 1024
COMPRESSIBLE = ("application/json", "text/plain", "text/html", "application/openmetrics-text")
BROTLI_QUALITY = 5  # as fast as gzip's default level, and smaller
GZIP_LEVEL = 6


def accepted_coding(accept_encoding: str | None) -> str | None:
    """``br``, ``gzip`` or None (identity), by the client's weights."""
    accepted = weights(accept_encoding)
    for coding in ("br", "gzip"):
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def _compress(coding: str, body: bytes) -> bytes:
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


@web.middleware
async def compression_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if (
        not isinstance(response, web.Response)
        or response.prepared
        or response.content_type not in COMPRESSIBLE
        or hdrs.CONTENT_ENCODING in response.headers
    ):
        return response
    vary(response.headers, hdrs.ACCEPT_ENCODING)
    body = response.body
    coding = accepted_coding(request.headers.get(hdrs.ACCEPT_ENCODING))
    if coding is None or not isinstance(body, bytes | bytearray) or len(body) < MIN_BYTES:
        return response
    if len(body) > INLINE_BYTES:
        response.body = await asyncio.to_thread(_compress, coding, bytes(body))
    else:
        response.body = _compress(coding, bytes(body))
    response.headers[hdrs.CONTENT_ENCODING] = coding
    return response
