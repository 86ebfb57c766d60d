"""``GET /health``: the session API's health check, open without a key."""

from datetime import UTC, datetime

from aiohttp import web

from . import __version__


async def health(request: web.Request) -> web.Response:
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return web.json_response({"status": "ok", "timestamp": timestamp, "version": __version__})
