"""The official mix-python-sdk as the tests use it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from mix_python_sdk import Mix, errors, models
from mix_python_sdk.utils import BackoffStrategy, RetryConfig

from .server import ThreadedGateway

# A 5xx would make the client retry for ten minutes; fail fast instead.
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1, 1), False)


def client(server: ThreadedGateway, **kwargs: object) -> Mix:
    return Mix(server_url=server.url, retry_config=NO_RETRIES, **kwargs)


def upload(mix: Mix, session_id: str, name: str, data: bytes) -> models.FileInfo:
    return mix.files.upload_session_file(id=session_id, file={"file_name": name, "content": data})


def error_of(call: Callable[[], object]) -> tuple[int, str, str]:
    """The error the client raised, checked against the wire format.

    The client raises ``ErrorResponse`` for the statuses it documents and
    ``MixDefaultError`` for other 4xx; both carry our JSON body.
    """
    with pytest.raises(errors.MixError) as caught:
        call()
    error = models.RESTError.model_validate(json.loads(caught.value.body)["error"])
    assert error.code == caught.value.status_code
    assert caught.value.headers["content-type"].startswith("application/json")
    return error.code, error.type, error.message
