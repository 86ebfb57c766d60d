"""Processing bombs in a real gateway process: each ends in ``error`` within
its limit, the other worker keeps serving, ``/health`` keeps answering at
once, SIGTERM stops the gateway mid-extraction, and a file whose
processing keeps killing its gateway ends in ``error`` after a bounded
number of attempts."""

from __future__ import annotations

import io
import os
import signal
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
from letta_client import Letta
from letta_client.types import Folder
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from backends import backend_from_url

from ..letta_client import letta, processed
from ..process import GatewayProcess

#: /health is timed while the bombs run.
pytestmark = pytest.mark.serial

#: Limits small enough for a test, far below the bombs' needs.
LIMITS = {"GATEWAY_PROCESSING_TIMEOUT": "3", "GATEWAY_PROCESSING_MAX_TEXT_BYTES": "4000000"}


def pdf_bomb(pages: int = 500, stream_bytes: int = 5_000_000) -> bytes:
    """About 85 KB: every page draws one shared 5 MB content stream of text
    operators; pypdf takes about 9 s a page to extract it."""
    writer = PdfWriter()
    operator = b"BT /F1 12 Tf 72 712 Td (bomb) Tj ET\n"
    content = DecodedStreamObject()
    content.set_data(operator * (stream_bytes // len(operator)))
    contents = writer._add_object(content.flate_encode())
    font = DictionaryObject(
        {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
         NameObject("/BaseFont"): NameObject("/Helvetica")}
    )  # fmt: skip
    resources = writer._add_object(DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}))
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = contents
        page[NameObject("/Resources")] = resources
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class HealthProbe:
    """``GET /health`` over and over in a thread, timing each answer."""

    def __init__(self, url: str) -> None:
        self.url, self.latencies, self.stopped = url, list[float](), threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stopped.is_set() and len(self.latencies) < 5000:
                started = time.perf_counter()
                assert client.get(f"{self.url}/health").status_code == 200
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.01)

    def __enter__(self) -> HealthProbe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]


def warmed_up(client: Letta) -> Folder:
    """A folder, after a first file processed: the storage client's first
    calls (botocore loads its models) are not what is measured."""
    folder = client.folders.create(name="bombs")
    first = client.folders.files.upload(folder.id, file=("first.md", io.BytesIO(b"# first")))
    assert processed(client, folder.id, first.id).processing_status == "completed"
    return folder


def test_a_pdf_bomb_ends_in_error_and_the_other_worker_serves(backend_url: str) -> None:
    with GatewayProcess(backend_url, LIMITS) as gateway:
        client = letta(gateway)
        folder = warmed_up(client)
        with HealthProbe(gateway.url) as probe:
            started = time.monotonic()
            bomb = client.folders.files.upload(folder.id, file=("bomb.pdf", io.BytesIO(pdf_bomb())))
            small = client.folders.files.upload(folder.id, file=("small.txt", io.BytesIO(b"small words")))
            assert processed(client, folder.id, small.id, timeout=10).processing_status == "completed"
            assert time.monotonic() - started < 3, "the other worker waited for the bomb"
            done = processed(client, folder.id, bomb.id, timeout=20)
            elapsed = time.monotonic() - started
        print(f"pdf bomb: {done.error_message!r} after {elapsed:.1f} s, /health p99 {probe.p99() * 1000:.0f} ms")
    assert done.processing_status == "error" and elapsed < 8
    assert done.error_message in (
        "Processing took longer than 3 s",
        "The extracted text is over the limit of 4000000 bytes",
        "The document could not be extracted within 3 s, 3 s of CPU and 1024 MiB of memory",
    )
    assert probe.p99() < 0.1


TIME_LIMIT = "Processing took longer than 3 s"
TEXT_LIMIT = "The extracted text is over the limit of 4000000 bytes"


@pytest.mark.parametrize(
    ("name", "data", "env", "message"),
    [
        # 20 MB of text without whitespace: chunking cannot cut it at words.
        ("nospace.txt", b"x" * 20_000_000, LIMITS, TIME_LIMIT),
        # 20 MB of one unclosed attribute: the HTML parser rescans it on every read.
        ("attribute.html", b'<p><a href="' + b"y" * 20_000_000, LIMITS, TIME_LIMIT),
        # 20 MB of words, time enough: the text limit ends it.
        ("words.txt", b"word " * 4_000_000, LIMITS | {"GATEWAY_PROCESSING_TIMEOUT": "30"}, TEXT_LIMIT),
    ],
    ids=["text", "html", "words"],
)
def test_text_and_html_bombs_end_in_error_and_health_answers(
    tmp_path: Path, name: str, data: bytes, env: dict[str, str], message: str
) -> None:
    with GatewayProcess(f"file://{tmp_path}", env) as gateway:
        client = letta(gateway)
        folder = warmed_up(client)
        with HealthProbe(gateway.url) as probe:
            started = time.monotonic()
            bomb = client.folders.files.upload(folder.id, file=(name, io.BytesIO(data)))
            done = processed(client, folder.id, bomb.id, timeout=20)
            elapsed = time.monotonic() - started
            listing = time.perf_counter()
            client.folders.files.list(folder.id)
            listing = time.perf_counter() - listing
        print(
            f"{name}: {done.processing_status} {done.error_message!r} after {elapsed:.1f} s, "
            f"/health p99 {probe.p99() * 1000:.0f} ms of {len(probe.latencies)}, listing {listing * 1000:.0f} ms"
        )
    assert (done.processing_status, done.error_message) == ("error", message) and elapsed < 15
    assert probe.p99() < 0.1


def _children(pid: int) -> list[int]:
    return [
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]


async def test_sigterm_during_an_extraction_exits_within_the_grace(tmp_path: Path) -> None:
    gateway = GatewayProcess(f"file://{tmp_path}", {"GATEWAY_PROCESSING_TIMEOUT": "600", "GATEWAY_SHUTDOWN_GRACE": "5"})
    with gateway:
        client = letta(gateway)
        folder = client.folders.create(name="bombs")
        bomb = client.folders.files.upload(folder.id, file=("bomb.pdf", io.BytesIO(pdf_bomb())))
        deadline = time.monotonic() + 10
        while not (extractors := _children(gateway.pid)):
            assert time.monotonic() < deadline, "no extraction started"
            time.sleep(0.05)
        assert client.folders.files.retrieve(bomb.id, folder_id=folder.id).processing_status == "parsing"
        stopping = time.monotonic()
        gateway.process.send_signal(signal.SIGTERM)
        assert gateway.process.wait(timeout=10) == 0
        print(f"SIGTERM mid-extraction: exited in {time.monotonic() - stopping:.2f} s")
        for child in extractors:
            assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
    # A stop is not the file's fault: its job is handed back, uncounted.
    backend = backend_from_url(f"file://{tmp_path}")
    await backend.start()
    try:
        job = await backend.get_json(f"folder-jobs/{bomb.id}.json")
    finally:
        await backend.close()
    assert (job["attempts"], job["lease_until"]) == (0, 0)


async def test_a_file_that_keeps_killing_its_gateway_ends_in_error(tmp_path: Path) -> None:
    """SIGKILL each gateway while it extracts (as the OOM killer would):
    after ``processing_max_attempts`` starts the next gateway gives up."""
    storage = f"file://{tmp_path}"
    env = {
        "GATEWAY_PROCESSING_TIMEOUT": "600",
        "GATEWAY_PROCESSING_MAX_ATTEMPTS": "2",
        "GATEWAY_PROCESSING_LEASE_SECONDS": "1",
    }
    backend = backend_from_url(storage)
    await backend.start()
    try:
        for attempt in (1, 2):
            with GatewayProcess(storage, env) as gateway:
                client = letta(gateway)
                if attempt == 1:
                    folder = client.folders.create(name="bombs")
                    bomb = client.folders.files.upload(folder.id, file=("bomb.pdf", io.BytesIO(pdf_bomb())))
                deadline = time.monotonic() + 15
                while not _children(gateway.pid):
                    assert time.monotonic() < deadline, f"attempt {attempt} did not start"
                    time.sleep(0.05)
                assert (await backend.get_json(f"folder-jobs/{bomb.id}.json"))["attempts"] == attempt
                os.kill(gateway.pid, signal.SIGKILL)
                gateway.process.wait()
    finally:
        await backend.close()
    with GatewayProcess(storage, env) as gateway:
        done = processed(letta(gateway), folder.id, bomb.id, timeout=15)
    assert done.processing_status == "error"
    assert done.error_message == (
        "Processing was started 2 times and never finished (the process working on it stopped each time)"
    )
