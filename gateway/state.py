"""Typed application state shared by every API family, and what the app
factory hands each family's sub-app."""

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from backends import BaseBackend

from .http.cors import CorsPolicy
from .http.errors import DomainErrors, Renderer
from .http.family import family_app
from .lifecycle import Lifecycle
from .metrics import Metrics
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
STORAGE = web.AppKey("storage", BaseBackend)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)


@dataclass(frozen=True)
class Shared:
    """Made once by the app factory and given to each family."""

    settings: Settings
    storage: BaseBackend
    metrics: Metrics
    cors: CorsPolicy

    def family_app(
        self,
        render: Renderer,
        domain_errors: DomainErrors,
        opened_by_link: Callable[[web.Request], bool] | None = None,
    ) -> web.Application:
        return family_app(
            render,
            domain_errors=domain_errors,
            api_keys=self.settings.api_keys,
            cors=self.cors,
            on_unavailable=self.metrics.storage_errors.inc,
            on_full=self.metrics.storage_full.inc,
            opened_by_link=opened_by_link,
        )
