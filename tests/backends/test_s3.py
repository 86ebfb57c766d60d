"""What only the S3 backend does: multipart uploads that never leave parts
behind, bucket checks at start, and its URL options. On a real SeaweedFS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import os
import uuid
import zlib
from collections.abc import AsyncIterator

import pytest

from backends import AlreadyExists, NotFound, StorageConfigError, backend_from_url
from backends.s3 import PART_SIZE, PartBody, S3Backend

from ..seaweedfs import BUCKET, SeaweedFS
from .test_contract import Boom, chunks_of, read_all

pytestmark = pytest.mark.usefixtures("s3_server")


@pytest.fixture
async def s3() -> AsyncIterator[S3Backend]:
    backend = backend_from_url(f"s3://{BUCKET}/{uuid.uuid4().hex}?addressing_style=path")
    assert isinstance(backend, S3Backend)
    await backend.start()
    yield backend
    await backend.close()


async def open_uploads(s3: S3Backend) -> list[str]:
    listed = await s3.client.list_multipart_uploads(Bucket=BUCKET, Prefix=s3.prefix)
    return [upload["Key"] for upload in listed.get("Uploads", [])]


async def test_large_objects_go_up_in_parts(s3: S3Backend) -> None:
    data = os.urandom(2 * PART_SIZE + 12345)
    info = await s3.put("big.bin", chunks_of(data, 1024 * 1024), content_type="video/mp4")
    assert info.size == len(data)
    assert info.etag.endswith("-3")  # three parts
    assert hashlib.sha256(await read_all(s3, "big.bin")).digest() == hashlib.sha256(data).digest()
    assert await read_all(s3, "big.bin", PART_SIZE - 5, PART_SIZE + 5) == data[PART_SIZE - 5 : PART_SIZE + 5]
    assert (await s3.stat("big.bin")).content_type == "video/mp4"


async def test_chunks_of_any_size_and_type_go_up_in_order(s3: S3Backend) -> None:
    """Parts keep the chunks they came in (gathering small ones), and send
    each with the CRC32 computed from them: SeaweedFS checks it (a wrong one
    is ``BadDigest``), so the round trip proves it right. A producer that
    refills one buffer must not change what was taken from it."""
    data = os.urandom(2 * PART_SIZE + 99)
    sizes = itertools.cycle([1, 300_000, 7, 65_536, 1_000_000, 65_535, 3])
    kinds = itertools.cycle(["bytes", "reused bytearray", "memoryview"])

    async def odd_chunks() -> AsyncIterator[bytes]:
        buffer = bytearray()
        offset = 0
        while offset < len(data):
            piece = data[offset : offset + next(sizes)]
            offset += len(piece)
            match next(kinds):
                case "bytes":
                    yield piece
                case "reused bytearray":
                    buffer[:] = piece
                    yield buffer  # type: ignore[misc]
                case _:
                    yield memoryview(piece)  # type: ignore[misc]

    info = await s3.put("odd.bin", odd_chunks())
    assert info.size == len(data)
    assert "-" in info.etag  # in parts
    assert hashlib.sha256(await read_all(s3, "odd.bin")).digest() == hashlib.sha256(data).digest()


async def test_a_single_put_sends_its_crc32(s3: S3Backend) -> None:
    data = os.urandom(100_000)
    await s3.put("one.bin", chunks_of(data, 1000))
    head = await s3.client.head_object(Bucket=BUCKET, Key=s3.full_key("one.bin"), ChecksumMode="ENABLED")
    assert base64.b64decode(head["ChecksumCRC32"]) == zlib.crc32(data).to_bytes(4, "big")


async def test_a_part_resent_sends_all_its_bytes() -> None:
    """botocore rewinds a body (``seek(0)``) before a retry, or reads it as a
    file; either way every byte goes again."""
    part = PartBody()
    for chunk in (b"a" * 70_000, b"b", b"c" * 10, b"d" * 70_000):
        part.add(chunk)
    whole = b"a" * 70_000 + b"b" + b"c" * 10 + b"d" * 70_000
    assert len(part) == len(whole)
    for _ in range(2):
        assert part.seek(0) == 0
        assert b"".join([chunk async for chunk in part]) == whole
    assert part.read(5) == b"aaaaa"
    assert part.seek(0) == 0
    assert part.read() == whole
    assert part.checksum == {"ChecksumCRC32": base64.b64encode(zlib.crc32(whole).to_bytes(4, "big")).decode()}


async def test_failed_multipart_upload_is_aborted(s3: S3Backend) -> None:
    async def failing() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * PART_SIZE
        raise Boom

    with pytest.raises(Boom):
        await s3.put("broken.bin", failing())
    with pytest.raises(NotFound):
        await s3.stat("broken.bin")
    assert await open_uploads(s3) == []


async def test_cancelled_multipart_upload_is_aborted(s3: S3Backend) -> None:
    sent = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b"x" * (PART_SIZE + 1)
        sent.set()
        await asyncio.sleep(60)
        yield b"never"

    task = asyncio.create_task(s3.put("stalled.bin", stalls()))
    await sent.wait()
    await asyncio.sleep(0.2)  # let the first part go up
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await open_uploads(s3) == []
    assert await s3.list("") == []


async def leftover(s3: S3Backend, key: str) -> str:
    """An incomplete multipart upload with one part, as a crash leaves it."""
    target = {"Bucket": BUCKET, "Key": s3.full_key(key)}
    upload_id = (await s3.client.create_multipart_upload(**target))["UploadId"]
    await s3.client.upload_part(**target, UploadId=upload_id, PartNumber=1, Body=b"x" * PART_SIZE)
    return upload_id


async def swept(s3: S3Backend) -> None:
    """Wait (10 s at most) until no multipart upload is open under the prefix."""
    for _ in range(100):
        if not await open_uploads(s3):
            return
        await asyncio.sleep(0.1)
    assert await open_uploads(s3) == []


def sweeper_of(s3: S3Backend) -> S3Backend:
    """A backend on the same prefix that aborts every incomplete upload."""
    backend = backend_from_url(f"s3://{BUCKET}/{s3.prefix}?addressing_style=path&multipart_grace=0")
    assert isinstance(backend, S3Backend)
    return backend


async def test_the_sweep_aborts_what_crashes_left_once_past_the_grace(s3: S3Backend) -> None:
    await leftover(s3, "crashed.bin")
    await leftover(s3, "another.bin")
    assert sorted(await open_uploads(s3)) == [s3.full_key("another.bin"), s3.full_key("crashed.bin")]
    # A young upload is left to finish; one older than the grace goes.
    assert await s3.sweep_multipart_uploads() == 0
    sweeper = sweeper_of(s3)
    await sweeper.start()  # sweeps at start
    try:
        await swept(s3)
        assert await sweeper.sweep_multipart_uploads() == 0  # and again: nothing, no error
    finally:
        await sweeper.close()


async def test_replicas_sweeping_at_once_agree(s3: S3Backend, caplog: pytest.LogCaptureFixture) -> None:
    for n in range(6):
        await leftover(s3, f"crashed-{n}.bin")
    replicas = [sweeper_of(s3), sweeper_of(s3)]
    await asyncio.gather(*(replica.start() for replica in replicas))  # both sweep at once
    try:
        await swept(s3)
        assert await asyncio.gather(*(r.sweep_multipart_uploads() for r in replicas)) == [0, 0]
        assert "sweep failed" not in caplog.text
    finally:
        for replica in replicas:
            await replica.close()


async def test_multipart_put_if_absent(s3: S3Backend) -> None:
    await s3.put("claim.bin", chunks_of(b"a" * (PART_SIZE + 1)), if_absent=True)
    with pytest.raises(AlreadyExists):
        await s3.put("claim.bin", chunks_of(b"b" * (PART_SIZE + 1)), if_absent=True)
    assert (await read_all(s3, "claim.bin"))[:1] == b"a"
    assert await open_uploads(s3) == []


async def test_missing_bucket_is_a_start_error_unless_created() -> None:
    name = f"missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(StorageConfigError, match="does not exist"):
        await backend_from_url(f"s3://{name}?addressing_style=path").start()
    created = backend_from_url(f"s3://{name}?addressing_style=path&create_bucket=true")
    await created.start()
    await created.put("x", chunks_of(b"1"))
    assert [e.key for e in await created.list("")] == ["x"]
    await created.close()


async def test_unreachable_s3_is_a_start_error(s3_server: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> None:
    from .. import server

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.free_port()}")
    with pytest.raises(StorageConfigError, match="cannot use S3 bucket"):
        await backend_from_url(f"s3://{BUCKET}?addressing_style=path").start()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://ab", "3 to 63"),
        ("s3://" + "a" * 64, "3 to 63"),
        ("s3://bucket?colour=red", "unknown S3 storage options: colour"),
        ("s3://bucket?addressing_style=sideways", "addressing_style"),
        ("s3://bucket?create_bucket=maybe", "create_bucket"),
        ("s3://bucket?pool=0", "pool"),
        ("s3://bucket?multipart_grace=-1", "multipart_grace"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StorageConfigError, match=message):
        backend_from_url(url)


def test_url_prefix() -> None:
    backend = backend_from_url("s3://bucket/a/b/?addressing_style=path&pool=7")
    assert isinstance(backend, S3Backend)
    assert (backend.bucket, backend.prefix) == ("bucket", "a/b/")
    assert backend_from_url("s3://bucket").prefix == ""


def test_cli_names_a_missing_bucket_in_one_line(s3_server: SeaweedFS) -> None:
    import subprocess
    import sys

    from ..server import free_port

    storage = f"s3://missing-{uuid.uuid4().hex[:12]}?addressing_style=path"
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--storage", storage, "--port", str(free_port())],
        env={**os.environ, **s3_server.environment()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("gateway: error: S3 bucket 'missing-") and "does not exist" in last
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("code", "status"),
    [("EntityTooLarge", 400), ("QuotaExceeded", 403), ("XMinioStorageFull", 507), ("AnythingElse", 507)],
)
def test_s3_out_of_room_answers_are_storage_full(code: str, status: int) -> None:
    """What S3 servers answer when out of room, as botocore raises it: the
    gateway's 507 path, tested end to end on a full local disk."""
    from botocore.exceptions import ClientError

    from backends import StorageFull
    from backends.s3 import _translate

    error = ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Put"
    )
    assert isinstance(_translate(error, "key"), StorageFull)


async def test_a_process_never_sweeps_its_own_uploads_in_progress(s3: S3Backend) -> None:
    sweeper = sweeper_of(s3)
    await sweeper.start()
    try:
        halfway = asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            yield b"x" * PART_SIZE
            yield b"x" * PART_SIZE
            halfway.set()
            await asyncio.sleep(0.5)
            yield b"y" * 10

        putting = asyncio.create_task(sweeper.put("slow.bin", slow()))
        await halfway.wait()
        assert await sweeper.sweep_multipart_uploads() == 0
        assert (await putting).size == 2 * PART_SIZE + 10
    finally:
        await sweeper.close()
