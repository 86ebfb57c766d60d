"""Fixtures shared by the whole suite: backends and a real gateway server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends import BaseBackend, backend_from_url

BACKEND_KINDS = ["memory", "local"]


def storage_url(kind: str, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "local":
        return f"file://{tmp_path / 'storage'}"
    raise ValueError(kind)


@pytest.fixture(params=BACKEND_KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def backend_url(backend_kind: str, tmp_path: Path) -> str:
    return storage_url(backend_kind, tmp_path)


@pytest.fixture
async def backend(backend_url: str) -> AsyncIterator[BaseBackend]:
    store = backend_from_url(backend_url)
    await store.start()
    yield store
    await store.close()


@pytest.fixture
def start_gateway(backend_url: str):
    """Start a gateway on the parametrized backend: ``start_gateway(**settings)``."""
    from gateway.settings import Settings

    from .server import ThreadedGateway

    servers: list[ThreadedGateway] = []

    def start(**overrides: object) -> ThreadedGateway:
        server = ThreadedGateway(Settings(storage=backend_url, **overrides)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def gateway(start_gateway) -> ThreadedGateway:  # noqa: F821
    return start_gateway()
