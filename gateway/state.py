"""Typed application state shared by every API family."""

from aiohttp import web

from backends import BaseBackend

from .lifecycle import Lifecycle
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
STORAGE = web.AppKey("storage", BaseBackend)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
