"""letta-client 0.1.324, unmodified, sync and async, on every backend.

0.1.324 and 1.12.1 are both ``letta_client``, so 0.1.324 lives in a virtual
environment of its own, made once by the fixture below and kept in pytest's
cache (``.pytest_cache/d/letta-client-0.1.324``; delete it to rebuild).
The gateway runs in this process on the parametrized backend; the client
runs ``client_0x.py`` in that environment against it, over loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

from ..server import ThreadedGateway

REQUIREMENT = "letta-client==0.1.324"
SCRIPT = Path(__file__).with_name("client_0x.py")


@pytest.fixture(scope="session")
def python_0x(request: pytest.FixtureRequest) -> Path:
    """The Python of a virtual environment holding letta-client 0.1.324."""
    home = request.config.cache.mkdir(REQUIREMENT.replace("==", "-"))
    python = home / "bin" / "python"
    version = REQUIREMENT.partition("==")[2]
    check = [str(python), "-c", f"import importlib.metadata as m; assert m.version('letta-client') == {version!r}"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    venv.create(home, clear=True, with_pip=True)
    install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", REQUIREMENT]
    result = subprocess.run(install, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        reason = f"cannot install {REQUIREMENT} in a virtual environment: {result.stderr[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must run these, not skip them
        pytest.skip(reason)
    return python


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_folder_and_source_call(python_0x: Path, gateway: ThreadedGateway, mode: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    run = subprocess.run(
        [str(python_0x), str(SCRIPT), gateway.url, mode], capture_output=True, text=True, timeout=120, env=env
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    failed = {group: trace for group, trace in results.items() if trace != "ok"}
    assert not failed, "\n".join(f"{group}:\n{trace}" for group, trace in failed.items())
    assert list(results) == ["folders", "folder_files", "sources", "source_files", "metadata"]
