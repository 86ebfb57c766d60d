"""The session files API (Mix agent runtime): ``/api/sessions/...``."""

from aiohttp import web

from backends import BaseBackend

from ..http.family import family_app
from ..metrics import Metrics
from ..settings import Settings
from ..thumbnails import THUMBNAILS, Thumbnailer
from .errors import render_error
from .routes import setup_routes
from .store import SESSIONS, SessionStore


def create_app(settings: Settings, storage: BaseBackend, metrics: Metrics) -> web.Application:
    """The ``/api`` sub-application, with this family's errors and auth."""
    app = family_app(render_error, settings.api_keys, on_unavailable=metrics.storage_errors.inc)
    app[SESSIONS] = SessionStore(storage)
    app[THUMBNAILS] = Thumbnailer(
        storage,
        max_pixels=settings.max_image_pixels,
        observe=metrics.thumbnail_seconds.observe,
        timeout=settings.thumbnail_timeout,
    )
    metrics.thumbnails_queued.set_function(lambda: app[THUMBNAILS].in_progress)
    app.on_cleanup.append(_close_thumbnailer)
    setup_routes(app)
    return app


async def _close_thumbnailer(app: web.Application) -> None:
    await app[THUMBNAILS].close()
