"""A gateway in its own process (``python -m gateway``), as users run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from .server import free_port


class GatewayProcess:
    def __init__(self, storage: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        # A file, not a pipe: a full pipe would block the gateway's logging.
        self.log = tempfile.NamedTemporaryFile(prefix="gateway-", suffix=".log")  # noqa: SIM115
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [sys.executable, "-m", "gateway", "--storage", storage, "--port", str(self.port)]
        self._env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> GatewayProcess:
        self.process = subprocess.Popen(self._command, env=self._env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("gateway did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()

    def output(self) -> str:
        """What the gateway wrote to stderr so far."""
        return Path(self.log.name).read_text()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def killed_amid(self, work: Callable[[int], None], count: int) -> None:
        """Run ``work(0)`` to ``work(count - 1)`` on 8 threads and SIGKILL the
        gateway while they do; ``work`` swallows the errors the kill causes."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            running = [pool.submit(work, n) for n in range(count)]
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            for future in running:
                future.result()
