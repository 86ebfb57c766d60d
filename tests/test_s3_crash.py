"""Gateway processes killed mid-upload leave incomplete multipart uploads in
S3; the next process's sweep aborts them."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from .process import GatewayProcess
from .seaweedfs import BUCKET, SeaweedFS, s3_url

UPLOADS = 3


def open_uploads(server: SeaweedFS, prefix: str) -> int:
    return len(server.client().list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", []))


def wait_for(condition, timeout: float = 20) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def slow_body(release: threading.Event) -> Iterator[bytes]:
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    for _ in range(3):  # past one 8 MiB part: a multipart upload is open
        yield b"x" * (4 * 1024 * 1024)
    release.wait(timeout=60)


def test_multipart_uploads_cut_by_sigkill_are_aborted_by_the_next_process(s3_server: SeaweedFS) -> None:
    storage = s3_url()
    prefix = urlsplit(storage).path.strip("/") + "/"
    release = threading.Event()
    with GatewayProcess(storage) as doomed:
        session = httpx.post(f"{doomed.url}/api/sessions", json={"title": "t"}).json()["id"]

        def upload() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                httpx.post(
                    f"{doomed.url}/api/sessions/{session}/files/upload",
                    content=slow_body(release),
                    headers={"Content-Type": "multipart/form-data; boundary=b"},
                    timeout=60,
                )

        threads = [threading.Thread(target=upload) for _ in range(UPLOADS)]
        for thread in threads:
            thread.start()
        wait_for(lambda: open_uploads(s3_server, prefix) == UPLOADS)
        assert doomed.process is not None
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait(timeout=10)
        release.set()
        for thread in threads:
            thread.join(timeout=30)
        assert open_uploads(s3_server, prefix) == UPLOADS  # what a crash leaves

        with GatewayProcess(f"{storage}&multipart_grace=0"):
            wait_for(lambda: open_uploads(s3_server, prefix) == 0)
