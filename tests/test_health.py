"""Health and readiness, open even when API keys are set."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from .server import ThreadedGateway

KEYS = ("a-key-that-is-long-enough",)


def test_health_and_readiness_need_no_key(start_gateway: Callable[..., ThreadedGateway]) -> None:
    server = start_gateway(api_keys=KEYS)
    for path in ("/health", "/healthz"):
        health = httpx.get(f"{server.url}{path}")
        assert (health.status_code, health.json()["status"]) == (200, "ok")
    ready = httpx.get(f"{server.url}/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
