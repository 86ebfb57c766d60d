"""How the HTTP server runs the app, for the CLI and the tests alike
(``GatewayRunner``): timeouts for slow clients and a bound on connections.

aiohttp bounds none of these by itself: its keep-alive timer (3630 s by
default) is the only clock on a connection, request headers may trickle in
for ever, a body that stops arriving is waited for for ever, and
connections are accepted until the process runs out of file descriptors
(then ``/health`` stops answering too). So:

- **Idle kept-alive connections**: aiohttp's own ``keepalive_timeout``, from
  the settings.
- **Headers**: ``GuardedHandler`` (aiohttp's ``RequestHandler`` with two
  clocks) notes when the request it waits for began: when the connection
  opened, or when the first byte of the next request came on a kept-alive
  one. Past ``header_timeout`` the connection is closed: there is no
  request yet to answer.
- **Bodies**: it notes when bytes last came. A request whose body is still
  being read and got no byte for ``body_timeout``, while the gateway was
  ready to read (reading is paused when the storage is slower than the
  client: that is not the client's stall), has ``BodyTimeout`` (an
  ``ApiError``, 408) raised into its body reads. The upload code aborts
  what it stored on any exception, the family's error middleware answers
  408 in its format (access-logged and counted as such), and the connection
  closes once that is written.
- One sweep per server, every quarter of the shorter timeout (at most a
  second), checks every connection: cheaper and simpler than a timer per
  connection re-armed on every chunk.
- **Connections**: ``GuardedServer`` (aiohttp's ``Server``, the protocol
  factory) holds at most ``max_connections`` (fewer if the file
  descriptors would not cover them, see ``connection_bound``). At the bound,
  a new connection takes the place of the oldest one still waiting for a
  request (idle, silent or slow with its headers), so a flood of silent
  connections never locks out clients that send requests; when every
  connection has a request in progress, the new one is closed at once.

aiohttp builds its ``Server`` in ``Application._make_handler``, with no way
to choose the handler class, so ``GatewayRunner._make_server`` builds a
``GuardedServer`` from the same arguments: the smallest change that leaves
aiohttp's request handling whole.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from .http.errors import ApiError
from .metrics import METRICS
from .state import SETTINGS

log = logging.getLogger("gateway")

#: File descriptors kept for all but client connections: the storage's
#: connection pool, logs, the processing workers' files.
FD_RESERVE = 256


class BodyTimeout(ApiError):
    """Raised into the body reads of a request whose client stopped sending."""

    def __init__(self, seconds: float) -> None:
        message = f"No request body bytes came for {seconds:g} s: the request is ended and nothing was stored"
        super().__init__(408, message, headers={"Connection": "close"})


@dataclass(frozen=True)
class Limits:
    header_timeout: float
    body_timeout: float
    max_connections: int


class GuardedHandler(RequestHandler):
    """One connection, with the two clocks the sweep reads."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.manager = manager
        self.limits = manager.limits
        now = self._loop.time()
        #: When the request being waited for began (None when none is).
        self.request_began: float | None = now
        #: When bytes last came, or reading last resumed.
        self.progressed = now

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # Once aiohttp has started the connection's task, which a close
        # before would leave failing on a connection already lost.
        self.manager.admit(self)

    def data_received(self, data: bytes) -> None:
        now = self._loop.time()
        self.progressed = now
        if data and self.request_began is None and self.waiting():
            self.request_began = now  # the first bytes of the next request
        super().data_received(data)
        if self._messages:  # a request's headers are complete
            self.request_began = None

    def waiting(self) -> bool:
        """Waiting for a request's headers: no request in progress."""
        return self._waiter is not None and not self._waiter.done()

    def enforce(self, now: float) -> str | None:
        """End what waited too long on the client; say what it was."""
        if self.waiting():
            if self.request_began is not None and now - self.request_began > self.limits.header_timeout:
                self.force_close()
                return "header_timeout"
            return None
        request = self._current_request
        if request is None or request.content.is_eof() or request.content.exception() is not None:
            return None
        if self._reading_paused or self._buffer_paused:
            self.progressed = now  # the gateway holds the client back, not the other way round
        elif now - self.progressed > self.limits.body_timeout:
            self._lingering_time = 0  # read no more from it: close once the 408 is written
            request.content.set_exception(BodyTimeout(self.limits.body_timeout))
            return "body_timeout"
        return None


class GuardedServer(web.Server):
    """aiohttp's server with ``GuardedHandler`` connections, their sweep and
    the connection bound."""

    def __init__(self, *args: Any, limits: Limits, on_cut: Callable[[str], object], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._on_cut = on_cut
        self._interval = min(1.0, limits.header_timeout / 4, limits.body_timeout / 4)
        self._sweeper = self._loop.call_later(self._interval, self._sweep)

    def __call__(self) -> GuardedHandler:
        return GuardedHandler(self, loop=self._loop, **self._kwargs)

    def admit(self, handler: GuardedHandler) -> None:
        """Keep to the bound, closing the oldest connection waiting for a
        request, else ``handler``, the new one."""
        if len(self._connections) > self.limits.max_connections:
            # Oldest first: the dict keeps the order connections came in.
            waiting = next((h for h in self._connections if isinstance(h, GuardedHandler) and h.waiting()), None)
            (waiting or handler).force_close()
            self._on_cut("over_limit")

    def _sweep(self) -> None:
        self._sweeper = self._loop.call_later(self._interval, self._sweep)
        now = self._loop.time()
        for handler in self.connections:
            if isinstance(handler, GuardedHandler) and (cut := handler.enforce(now)):
                self._on_cut(cut)

    async def shutdown(self, timeout: float | None = None) -> None:
        self._sweeper.cancel()
        await super().shutdown(timeout)


class GatewayRunner(web.AppRunner):
    """``web.AppRunner`` with the gateway's server options and limits."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        settings = app[SETTINGS]
        super().__init__(
            app,
            # Request bodies are not decompressed: the API families refuse
            # compressed ones (415), and aiohttp would otherwise fail on a
            # body that is not in its claimed coding while draining it after
            # the answer, and log that as an unhandled error.
            auto_decompress=False,
            keepalive_timeout=settings.keepalive_timeout,
            # For what is left once Lifecycle.shut_down has waited.
            shutdown_timeout=5,
            **kwargs,
        )
        self._limits = Limits(
            settings.header_timeout, settings.body_timeout, connection_bound(settings.max_connections)
        )

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        metrics = self.app[METRICS]
        server = GuardedServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            limits=self._limits,
            on_cut=lambda reason: metrics.connections_cut.labels(reason).inc(),
            **made._kwargs,
        )
        metrics.connections_open.set_function(lambda: len(server.connections))
        return server


def connection_bound(wanted: int) -> int:
    """``wanted``, or fewer where the file descriptors cannot cover them (two
    each, as a connection may hold a file, plus ``FD_RESERVE``). The soft
    limit is first raised towards the hard one, as far as needed."""
    needed = 2 * wanted + FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    bound = max(1, min(wanted, (soft - FD_RESERVE) // 2))
    if bound < wanted:
        log.warning("max_connections %d cut to %d: the file descriptor limit is %d", wanted, bound, soft)
    return bound
