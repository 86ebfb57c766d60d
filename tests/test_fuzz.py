"""schemathesis from the served /openapi.json, as CI runs it: a fixed seed
and a bounded number of examples, on memory and local disk. No 5xx, status
codes, content types and bodies as documented, and no unhandled error in the
gateway's log."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .process import GatewayProcess

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.parametrize("storage", ["memory", "local"])
def test_schemathesis_finds_nothing(tmp_path: Path, storage: str) -> None:
    command = shutil.which("schemathesis") or shutil.which("st")
    if command is None:
        pytest.fail("schemathesis is not installed (the test extra has it)")
    url = "memory://" if storage == "memory" else f"file://{tmp_path / 'data'}"
    with GatewayProcess(url) as gateway:
        run = subprocess.run(
            [
                command,
                "run",
                f"{gateway.url}/openapi.json",
                f"--checks={CHECKS}",
                "--max-examples=8",
                "--seed=1",
                "--workers=1",
                "--no-color",
                f"--report-dir={tmp_path / 'report'}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        log = gateway.output()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Traceback" not in log and " ERROR " not in log, log[-4000:]
