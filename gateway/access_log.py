"""One JSON object per request on the ``gateway.access`` logger."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

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


class JsonAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, duration: float) -> None:
        match_info = getattr(request, "match_info", None)
        route = getattr(getattr(match_info, "route", None), "resource", None)
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
