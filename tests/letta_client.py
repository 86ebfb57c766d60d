"""The official letta-client as the tests use it."""

from __future__ import annotations

import time

from letta_client import AsyncLetta, Letta
from letta_client.types.folders import FileListResponse

from .process import GatewayProcess
from .server import ThreadedGateway

Server = ThreadedGateway | GatewayProcess

#: A 5xx or 409 would be retried with back-off; the tests want the answer.
RETRIES = 0


def letta(server: Server, api_key: str = "unused-key-0123456789") -> Letta:
    return Letta(base_url=server.url, api_key=api_key, max_retries=RETRIES)


def async_letta(server: Server) -> AsyncLetta:
    return AsyncLetta(base_url=server.url, api_key="unused-key-0123456789", max_retries=RETRIES)


def processed(client: Letta, folder_id: str, file_id: str, timeout: float = 30) -> FileListResponse:
    """The file once it reached a terminal status."""
    deadline = time.monotonic() + timeout
    while True:
        meta = client.folders.files.retrieve(file_id, folder_id=folder_id, include_content=True)
        if meta.processing_status in ("completed", "error"):
            return meta
        assert time.monotonic() < deadline, f"still {meta.processing_status} after {timeout} s"
        time.sleep(0.02)
