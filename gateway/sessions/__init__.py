"""The session files API (Mix agent runtime): ``/api/sessions/...``."""

from aiohttp import web

from backends import BaseBackend

from ..http.auth import auth_middleware
from ..http.errors import error_middleware
from ..metrics import Metrics
from ..settings import Settings
from ..thumbnails import THUMBNAILS, Thumbnailer
from .errors import render_error
from .routes import setup_routes
from .store import SESSIONS, SessionStore


def create_app(settings: Settings, storage: BaseBackend, metrics: Metrics) -> web.Application:
    """The ``/api`` sub-application, with this family's errors and auth."""
    middlewares = [error_middleware(render_error, on_unavailable=metrics.storage_errors.inc)]
    if settings.api_keys:
        middlewares.append(auth_middleware(settings.api_keys))
    app = web.Application(middlewares=middlewares)
    app[SESSIONS] = SessionStore(storage)
    app[THUMBNAILS] = Thumbnailer(
        storage, max_pixels=settings.max_image_pixels, observe=metrics.thumbnail_seconds.observe
    )
    metrics.thumbnails_queued.set_function(lambda: app[THUMBNAILS].in_progress)
    app.on_cleanup.append(_close_thumbnailer)
    setup_routes(app)
    return app


async def _close_thumbnailer(app: web.Application) -> None:
    app[THUMBNAILS].close()
