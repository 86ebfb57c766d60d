"""Health checks, open without a key.

- ``GET /health`` (the session API's) and ``GET /healthz`` (liveness): the
  process answers.
- ``GET /readyz``: readiness: the storage answers too; 503 otherwise, so a
  load balancer or Kubernetes stops sending traffic until it is back. Also
  503 from SIGTERM on, while the gateway drains. A full storage is reported
  (``"storage": "full"``, from a write that failed for space until one
  succeeds) but stays ready: reads go on, and deletes, which free space,
  must still reach the gateway. Nothing of the storage's own error (paths,
  endpoints) is told; it is logged.
"""

import logging
from datetime import UTC, datetime

from aiohttp import web

from backends import StorageUnavailable

from . import __version__
from .state import LIFECYCLE, STORAGE

log = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return web.json_response({"status": "ok", "timestamp": timestamp, "version": __version__})


async def readiness(request: web.Request) -> web.Response:
    if request.app[LIFECYCLE].draining:
        return web.json_response({"status": "draining"}, status=503)
    storage = request.app[STORAGE]
    try:
        await storage.ping()
    except StorageUnavailable as exc:
        log.warning("not ready: %s", exc)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ready", **({"storage": "full"} if storage.full else {})})
