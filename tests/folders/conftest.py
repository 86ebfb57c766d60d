"""The official letta-client against the parametrized gateway."""

from __future__ import annotations

import pytest
from letta_client import Letta

from ..letta_client import letta
from ..server import ThreadedGateway


@pytest.fixture
def client(gateway: ThreadedGateway) -> Letta:
    return letta(gateway)


@pytest.fixture
def folder_id(client: Letta) -> str:
    return client.folders.create(name="tests").id
