"""The folder files API (Letta): ``/v1/folders/...``."""

from aiohttp import web

from backends import BaseBackend

from ..http.cors import CorsPolicy
from ..http.family import family_app
from ..metrics import Metrics
from ..settings import Settings
from .errors import DOMAIN_ERRORS, render_error
from .processing import PROCESSOR, Limits, Processor
from .routes import setup_routes
from .store import FOLDERS, FolderStore


def create_app(settings: Settings, storage: BaseBackend, metrics: Metrics) -> web.Application:
    """The ``/v1`` sub-application, with this family's errors and auth."""
    app = family_app(
        render_error,
        DOMAIN_ERRORS,
        api_keys=settings.api_keys,
        cors=CorsPolicy(settings.cors_origins),
        on_unavailable=metrics.storage_errors.inc,
        on_full=metrics.storage_full.inc,
    )
    workers, lease = settings.processing_workers, settings.processing_lease_seconds
    app[FOLDERS] = store = FolderStore(storage, job_lease=lease if workers else 0, upload_lease=lease)
    limits = Limits(
        timeout=settings.processing_timeout,
        max_text_bytes=settings.processing_max_text_bytes,
        max_attempts=settings.processing_max_attempts,
        orphan_grace=settings.orphan_grace,
    )
    app[PROCESSOR] = processor = Processor(
        store,
        workers,
        lease,
        observe=lambda status, s: metrics.processing_seconds.labels(status).observe(s),
        limits=limits,
    )
    metrics.processing_queued.set_function(lambda: len(processor.queued))
    app.cleanup_ctx.append(_processing)
    setup_routes(app)
    return app


async def _processing(app: web.Application):
    app[PROCESSOR].start()
    yield
    await app[PROCESSOR].close()
