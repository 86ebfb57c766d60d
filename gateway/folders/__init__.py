"""The folder files API (Letta): ``/v1/folders/...``."""

from aiohttp import web

from backends import BaseBackend

from ..http.auth import auth_middleware
from ..http.errors import error_middleware
from ..metrics import Metrics
from ..settings import Settings
from .errors import render_error
from .processing import PROCESSOR, Processor
from .routes import setup_routes
from .store import FOLDERS, FolderStore


def create_app(settings: Settings, storage: BaseBackend, metrics: Metrics) -> web.Application:
    """The ``/v1`` sub-application, with this family's errors and auth."""
    middlewares = [error_middleware(render_error, on_unavailable=metrics.storage_errors.inc)]
    if settings.api_keys:
        middlewares.append(auth_middleware(settings.api_keys))
    app = web.Application(middlewares=middlewares)
    workers, lease = settings.processing_workers, settings.processing_lease_seconds
    app[FOLDERS] = store = FolderStore(storage, job_lease=lease if workers else 0)
    app[PROCESSOR] = processor = Processor(
        store, workers, lease, observe=lambda status, s: metrics.processing_seconds.labels(status).observe(s)
    )
    metrics.processing_queued.set_function(lambda: len(processor.queued))
    app.cleanup_ctx.append(_processing)
    setup_routes(app)
    return app


async def _processing(app: web.Application):
    app[PROCESSOR].start()
    yield
    await app[PROCESSOR].close()
