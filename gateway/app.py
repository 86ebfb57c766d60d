"""The app factory used alike by the CLI, the tests and the benchmarks."""

from __future__ import annotations

from aiohttp import web

from backends import backend_from_url

from . import folders, sessions
from .folders.errors import render_error as folder_errors
from .http.auth import path_guard
from .http.compression import compression_middleware
from .http.cors import CorsPolicy
from .http.errors import unrouted_middleware
from .http.forwarded import forwarded_middleware
from .http.request_id import add_request_id_header, request_id_middleware
from .lifecycle import Lifecycle
from .metrics import METRICS, Metrics
from .openapi import DOCUMENT, RenderedDocument
from .routes import root_table
from .sessions.errors import render_error as session_errors
from .settings import Settings
from .state import LIFECYCLE, SETTINGS, STORAGE, Shared

#: Largest JSON body (session create and the like); uploads stream instead.
MAX_JSON_BODY = 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    """Build the gateway; its storage starts and stops with the app."""
    lifecycle, metrics, cors = Lifecycle(), Metrics(), CorsPolicy(settings.cors_origins)
    table = root_table(metrics)
    app = web.Application(
        client_max_size=MAX_JSON_BODY,
        middlewares=[
            lifecycle.middleware(),
            metrics.middleware(),
            request_id_middleware,
            forwarded_middleware(settings.trusted_proxies),
            unrouted_middleware({"/api/": session_errors, "/v1/": folder_errors}),
            *([cors.middleware()] if cors.enabled else []),
            path_guard(settings.api_keys, table.keyed_paths()),
            compression_middleware,
        ],
    )
    app.on_response_prepare.append(add_request_id_header)
    if cors.enabled:
        app.on_response_prepare.append(cors.add_headers)
    app[SETTINGS] = settings
    app[LIFECYCLE] = lifecycle
    app[METRICS] = metrics
    app[DOCUMENT] = RenderedDocument()
    app[STORAGE] = backend_from_url(settings.storage)
    # Signals around the sub-apps' rather than a cleanup context: aiohttp
    # runs a parent's cleanup context before its sub-apps' cleanups, and
    # thumbnails and folder processing still use the storage as they stop.
    app.on_startup.append(_start_storage)
    table.install(app)
    shared = Shared(settings, app[STORAGE], metrics, cors)
    app.add_subapp("/api", sessions.create_app(shared))
    app.add_subapp("/v1", folders.create_app(shared))
    app.on_cleanup.append(_close_storage)
    return app


async def _start_storage(app: web.Application) -> None:
    await app[STORAGE].start()


async def _close_storage(app: web.Application) -> None:
    await app[STORAGE].close()
