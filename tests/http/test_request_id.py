"""X-Request-ID: kept when well-formed, made otherwise, on every response."""

from __future__ import annotations

import re

import httpx
import pytest

from ..server import ThreadedGateway


@pytest.mark.parametrize("path", ["/health", "/api/sessions", "/api/sessions/not-a-uuid", "/nowhere"])
def test_a_request_id_is_made_for_every_response(gateway: ThreadedGateway, path: str) -> None:
    first = httpx.get(f"{gateway.url}{path}").headers["x-request-id"]
    second = httpx.get(f"{gateway.url}{path}").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_well_formed_request_id_is_kept(gateway: ThreadedGateway) -> None:
    response = httpx.get(f"{gateway.url}/api/sessions/nope", headers={"X-Request-ID": "trace-1234.abc:9"})
    assert response.status_code == 400
    assert response.headers["x-request-id"] == "trace-1234.abc:9"


@pytest.mark.parametrize("offered", ["has space", "x" * 129, "new\\nline", "<script>"])
def test_a_malformed_request_id_is_replaced(gateway: ThreadedGateway, offered: str) -> None:
    response = httpx.get(f"{gateway.url}/health", headers={"X-Request-ID": offered})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
