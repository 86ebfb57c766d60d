"""The session files API (Mix agent runtime): ``/api/sessions/...``."""

from aiohttp import web

from backends import BaseBackend

from ..http.cors import CorsPolicy
from ..http.family import family_app
from ..http.signing import LINKS, LinkSigner, link_check
from ..metrics import Metrics
from ..settings import Settings
from ..thumbnails import THUMBNAILS, Thumbnailer
from .errors import DOMAIN_ERRORS, render_error
from .routes import setup_routes
from .store import SESSIONS, SessionStore
from .views import linked_file


def create_app(settings: Settings, storage: BaseBackend, metrics: Metrics) -> web.Application:
    """The ``/api`` sub-application, with this family's errors and auth."""
    links = LinkSigner.from_keys(settings.url_signing_key, settings.api_keys, settings.url_ttl)
    app = family_app(
        render_error,
        DOMAIN_ERRORS,
        api_keys=settings.api_keys,
        cors=CorsPolicy(settings.cors_origins),
        on_unavailable=metrics.storage_errors.inc,
        on_full=metrics.storage_full.inc,
        opened_by_link=link_check(links, linked_file),
    )
    app[LINKS] = links
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
