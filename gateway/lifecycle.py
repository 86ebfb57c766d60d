"""Graceful shutdown: what a SIGTERM sets in motion.

1. ``draining`` is set: readiness answers 503 while the gateway keeps
   serving for ``drain_seconds``, so load balancers stop sending requests;
2. the listener closes, and requests in flight get up to ``shutdown_grace``
   seconds to finish. We wait for them ourselves: aiohttp's own shutdown
   stops reading request bodies at once, which would cut every upload short;
3. the runner cleans up (idle connections, then the storage).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

log = logging.getLogger("gateway")


@dataclass
class Lifecycle:
    draining: bool = False
    in_flight: int = 0
    #: Set whenever no request is in flight.
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.idle.set()

    def middleware(self) -> Middleware:
        @web.middleware
        async def count_in_flight(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.in_flight += 1
            self.idle.clear()
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1
                if self.in_flight == 0:
                    self.idle.set()

        return count_in_flight

    async def shut_down(
        self, runner: web.AppRunner, sites: list[web.TCPSite], drain_seconds: float, grace: float
    ) -> None:
        self.draining = True
        log.info("draining for %gs, then up to %gs for requests in flight", drain_seconds, grace)
        await asyncio.sleep(drain_seconds)
        for site in sites:
            await site.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), grace)
        if self.in_flight:
            log.warning("%d requests still in flight after %gs: cutting them off", self.in_flight, grace)
        await runner.cleanup()
