"""A real gateway on a free loopback port, in a thread with its own loop,
so synchronous clients (the official SDKs) can call it from the test."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import replace

from aiohttp import web

from gateway.app import create_app
from gateway.server import GatewayRunner
from gateway.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThreadedGateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = replace(settings, host="127.0.0.1", port=free_port())
        self.url = f"http://127.0.0.1:{self.settings.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> ThreadedGateway:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            cleanup = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            try:
                cleanup.result(timeout=60)
            except TimeoutError:
                pending = asyncio.run_coroutine_threadsafe(_pending_tasks(), self._loop).result(timeout=10)
                raise TimeoutError(f"gateway cleanup still waits after 60 s on:\n{pending}") from None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _start(self) -> None:
        # As the CLI (its access log aside): the same limits, timeouts and options.
        self._runner = GatewayRunner(create_app(self.settings))
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.host, self.settings.port).start()


async def _pending_tasks() -> str:
    """Where each task of the server's loop is waiting, to debug a hang."""
    lines = []
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            frames = task.get_stack(limit=3)
            where = " < ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in frames)
            lines.append(f"{task.get_name()}: {where}")
    return "\n".join(lines)
