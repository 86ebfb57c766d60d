"""The session files API (Mix agent runtime): ``/api/sessions/...``."""

from aiohttp import web

from ..http.signing import LINKS, LinkSigner, link_check
from ..state import Shared
from ..thumbnails import THUMBNAILS, Thumbnailer
from .errors import DOMAIN_ERRORS, render_error
from .routes import TABLE
from .store import SESSIONS, SessionStore
from .views import linked_file


def create_app(shared: Shared) -> web.Application:
    """The ``/api`` sub-application, with this family's errors and auth."""
    settings, storage, metrics = shared.settings, shared.storage, shared.metrics
    links = LinkSigner.from_keys(settings.url_signing_key, settings.api_keys, settings.url_ttl)
    app = shared.family_app(render_error, DOMAIN_ERRORS, opened_by_link=link_check(links, linked_file))
    app[LINKS] = links
    app[SESSIONS] = SessionStore(storage)
    app[THUMBNAILS] = Thumbnailer(
        storage,
        max_pixels=settings.max_image_pixels,
        observe=metrics.thumbnail_seconds.observe,
        timeout=settings.thumbnail_timeout,
    )
    metrics.thumbnails_queued.set_function(lambda: app[THUMBNAILS].in_progress)
    metrics.thumbnail_copies.set_function(lambda: len(app[THUMBNAILS].copies))
    metrics.thumbnail_copy_bytes.set_function(lambda: app[THUMBNAILS].copies.nbytes)
    app.on_cleanup.append(_close_thumbnailer)
    TABLE.install(app)
    return app


async def _close_thumbnailer(app: web.Application) -> None:
    await app[THUMBNAILS].close()
