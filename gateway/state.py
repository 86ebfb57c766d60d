"""Typed application state shared by every API family."""

from aiohttp import web

from backends import BaseBackend

from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
STORAGE = web.AppKey("storage", BaseBackend)
