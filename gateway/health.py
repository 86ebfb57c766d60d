"""Health checks, open without a key.

- ``GET /health`` (the session API's) and ``GET /healthz`` (liveness): the
  process answers.
- ``GET /readyz``: readiness: the storage answers too; 503 otherwise, so a
  load balancer or Kubernetes stops sending traffic until it is back. Also
  503 from SIGTERM on, while the gateway drains.
"""

from datetime import UTC, datetime

from aiohttp import web

from backends import StorageUnavailable

from . import __version__
from .state import LIFECYCLE, STORAGE


async def health(request: web.Request) -> web.Response:
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return web.json_response({"status": "ok", "timestamp": timestamp, "version": __version__})


async def readiness(request: web.Request) -> web.Response:
    if request.app[LIFECYCLE].draining:
        return web.json_response({"status": "draining"}, status=503)
    try:
        await request.app[STORAGE].ping()
    except StorageUnavailable as exc:
        return web.json_response({"status": "unavailable", "reason": str(exc)}, status=503)
    return web.json_response({"status": "ready"})
