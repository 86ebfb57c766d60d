"""The sub-application each API family is mounted as."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web

from .auth import auth_middleware
from .errors import Renderer, error_middleware


def family_app(render: Renderer, api_keys: Sequence[str], on_unavailable: Callable[[], object]) -> web.Application:
    """Errors of everything below in the family's format (``render``), auth
    included; the API keys, when any are set, on every route."""
    middlewares = [error_middleware(render, on_unavailable=on_unavailable)]
    if api_keys:
        middlewares.append(auth_middleware(api_keys))
    return web.Application(middlewares=middlewares)
