"""The sub-application each API family is mounted as."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

from .auth import auth_middleware
from .bodies import identity_bodies
from .cors import CorsPolicy
from .errors import NO_DOMAIN_ERRORS, DomainErrors, Renderer, error_middleware


def family_app(
    render: Renderer,
    *,
    domain_errors: DomainErrors = NO_DOMAIN_ERRORS,
    api_keys: Sequence[str],
    cors: CorsPolicy,
    on_unavailable: Callable[[], object],
    on_full: Callable[[], object],
    opened_by_link: Callable[[web.Request], bool] | None = None,
) -> web.Application:
    """Errors of everything below in the family's format (``render``), its
    stores' exceptions with the statuses ``domain_errors`` gives them, writes
    from pages of other origins refused, the API keys, when any are set, on
    every route (or a signed link, where ``opened_by_link`` accepts it), and
    compressed request bodies refused."""
    middlewares: list[Middleware] = [
        error_middleware(render, domain_errors, on_unavailable=on_unavailable, on_full=on_full),
        cors.write_guard(),
    ]
    if api_keys:
        middlewares.append(auth_middleware(api_keys, opened_by_link))
    middlewares.append(identity_bodies)
    return web.Application(middlewares=middlewares)
