"""One JSON object per request on the ``gateway.access`` logger."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_urldispatcher import AbstractResource

from .http.downloads import body_bytes, status_for_logs
from .http.forwarded import CLIENT_ADDRESS
from .http.request_id import REQUEST_ID


def access_logger() -> logging.Logger:
    """The ``gateway.access`` logger, writing bare JSON lines to stderr."""
    logger = logging.getLogger("gateway.access")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return logger


def _resource(request: web.BaseRequest) -> AbstractResource | None:
    """The matched route; None for a request aiohttp answered before routing
    (a header over its limits), whose ``match_info`` is not set."""
    try:
        return request.match_info.route.resource  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):
        return None


class ClientProtocolErrors(logging.Filter):
    """aiohttp logs a request it cannot parse (a bad request line, a header
    over its limits) as an error with a traceback, although the client sent
    it and got its 400: one info line instead, so that errors in the log are
    the server's own."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and 400 <= error.code < 500:
            record.msg, record.args = f"{record.getMessage()}: {error.code} {error.message}".strip(), None
            record.levelno, record.levelname, record.exc_info = logging.INFO, "INFO", None
        return True


class JsonAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, duration: float) -> None:
        route = _resource(request)
        entry = {
            "time": datetime.fromtimestamp(time.time() - duration, UTC).isoformat(timespec="milliseconds"),
            "request_id": request.get(REQUEST_ID),
            "method": request.method,
            "route": route.canonical if route is not None else None,
            "path": request.path,
            "status": status_for_logs(response),
            "bytes_in": request.content_length,
            "bytes_out": body_bytes(request.method, response),
            "duration_ms": round(duration * 1000, 3),
            "peer": request.get(CLIENT_ADDRESS, request.remote),
            "user_agent": request.headers.get("User-Agent"),
        }
        self.logger.info(json.dumps(entry, separators=(",", ":")))
