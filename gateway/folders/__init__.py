"""The folder files API (Letta): ``/v1/folders/...``."""

from aiohttp import web

from ..state import Shared
from .errors import DOMAIN_ERRORS, render_error
from .processing import PROCESSOR, Limits, Processor
from .routes import TABLE
from .store import FOLDERS, FolderStore


def create_app(shared: Shared) -> web.Application:
    """The ``/v1`` sub-application, with this family's errors and auth."""
    settings, storage, metrics = shared.settings, shared.storage, shared.metrics
    app = shared.family_app(render_error, DOMAIN_ERRORS)
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
    TABLE.install(app)
    return app


async def _processing(app: web.Application):
    app[PROCESSOR].start()
    yield
    await app[PROCESSOR].close()
