"""``/health`` latency while slow clients hold connections.

A gateway process (``python -m gateway``, memory storage, default settings
but ``GATEWAY_HEADER_TIMEOUT``) is measured twice in the same run: alone,
then while 300 silent connections and 100 slowloris connections (request
headers at one byte a second) are held. ``/health`` is asked every 50 ms,
each time on a fresh connection, as a new client would; printed: median,
p99 and worst latency of each phase, and when the server closed the slow
connections (the header timeout).

Usage: ``python -m bench.slow_clients [--silent 300] [--slowloris 100] [--seconds 12] [--header-timeout 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import aiohttp

from tests.server import free_port

from .transfer import start, wait_ready

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


async def health_latencies(port: int, seconds: float) -> list[float]:
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEALTH)
        answer = await asyncio.wait_for(reader.read(), 10)
        latencies.append(time.perf_counter() - began)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        await asyncio.sleep(0.05)
    return latencies


async def hold(port: int, slowloris: bool, started: float) -> float | None:
    """Hold a connection (sending a header byte a second if ``slowloris``);
    return the seconds after ``started`` when the server closed it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = HEALTH[:-2] + b"X-Padding: " + b"a" * 10_000
    try:
        for byte in request:
            if slowloris:
                writer.write(bytes([byte]))
            try:
                if await asyncio.wait_for(reader.read(1), 1.0 if slowloris else 3600) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
    except ConnectionError:
        return time.monotonic() - started
    finally:
        writer.close()
    return None


def summary(name: str, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"{name}: {len(ms)} requests, median {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, worst {ms[-1]:.1f} ms"


async def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--silent", type=int, default=300)
    args.add_argument("--slowloris", type=int, default=100)
    args.add_argument("--seconds", type=float, default=12)
    args.add_argument("--header-timeout", type=float, default=10)
    options = args.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "gateway", "--storage", "memory://", "--port", str(port)]
    server = start(command, {"GATEWAY_HEADER_TIMEOUT": str(options.header_timeout)})
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, f"http://127.0.0.1:{port}/health")
        alone = await health_latencies(port, options.seconds / 2)
        started = time.monotonic()
        holders = [asyncio.create_task(hold(port, False, started)) for _ in range(options.silent)]
        holders += [asyncio.create_task(hold(port, True, started)) for _ in range(options.slowloris)]
        await asyncio.sleep(0.5)  # all connected
        held = await health_latencies(port, min(options.seconds, options.header_timeout - 1))
        closed = await asyncio.gather(*holders)
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(summary("alone", alone))
    print(summary(f"with {options.silent} silent + {options.slowloris} slowloris held", held))
    silent, slow = closed[: options.silent], closed[options.silent :]
    for name, times in (("silent", silent), ("slowloris", slow)):
        done = [t for t in times if t is not None]
        when = f", {min(done):.1f}-{max(done):.1f} s after opening" if done else ""
        print(f"{name}: {len(done)} of {len(times)} closed by the server{when}")


if __name__ == "__main__":
    asyncio.run(main())
