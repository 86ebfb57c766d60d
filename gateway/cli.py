"""``gateway`` / ``python -m gateway``: load the settings and serve until
SIGTERM or SIGINT, then shut down gracefully (see ``lifecycle.py``)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from backends import StorageConfigError

from .access_log import ClientProtocolErrors, JsonAccessLogger, access_logger
from .app import create_app
from .server import GatewayRunner
from .settings import Settings, SettingsError, load_settings
from .state import LIFECYCLE

log = logging.getLogger("gateway")


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.server").addFilter(ClientProtocolErrors())
    try:
        settings = load_settings(argv, os.environ)
        asyncio.run(serve(settings))
    except (SettingsError, StorageConfigError) as exc:
        sys.exit(f"gateway: error: {exc}")
    except OSError as exc:  # e.g. the port is taken
        sys.exit(f"gateway: error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = GatewayRunner(app, access_log_class=JsonAccessLogger, access_log=access_logger())
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("listening on http://%s:%d, storage %s", settings.host, settings.port, settings.storage)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await app[LIFECYCLE].shut_down(runner, [site], settings.drain_seconds, settings.shutdown_grace)
    log.info("stopped")
