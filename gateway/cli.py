"""``gateway`` / ``python -m gateway``: load the settings and serve."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web

from backends import StorageConfigError

from .app import create_app
from .settings import SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(argv, os.environ)
        app = create_app(settings)
        web.run_app(app, host=settings.host, port=settings.port, print=logging.getLogger("gateway").info)
    except (SettingsError, StorageConfigError) as exc:
        sys.exit(f"gateway: error: {exc}")
    except OSError as exc:  # e.g. the port is taken
        sys.exit(f"gateway: error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
