"""S3 backend (``s3://bucket/optional/prefix``), with aiobotocore.

Credentials, region and endpoint come from the standard AWS configuration
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, ``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION`` or ``AWS_REGION``), as every AWS tool does. Options
in the URL's query:

- ``addressing_style=auto|virtual|path``: ``path`` for most S3-compatible
  servers (MinIO, SeaweedFS, Ceph); default ``auto``;
- ``create_bucket=true``: create a missing bucket at start instead of
  refusing to start;
- ``pool=N``: connections to S3 at most (default 50);
- ``multipart_grace=S``: incomplete multipart uploads under the prefix older
  than S seconds are aborted (default 86400, a day).

Uploads stream: an object smaller than one part is sent with one PUT; a
larger one as a multipart upload with ``PART_SIZE`` parts,
``PARTS_IN_FLIGHT`` of them sent at once while the next is received (three
part buffers, 24 MiB, per upload whatever the file size; a second part in
flight hides the wait for S3's answer to the first). Any failure,
cancellation or client disconnect aborts the multipart upload, so no parts
linger and no partial object becomes visible. What a
crash (SIGKILL, a lost node) or an abort sent while S3 was down leaves
behind is aborted by a sweep every process runs at start and every
``min(grace / 2, 1 h)``: it lists the incomplete uploads under its prefix and
aborts those begun more than ``multipart_grace`` ago, so a failed abort is
retried by the next sweep. Replicas may sweep at the same time: an upload
another one aborted first is gone, which is all either wants. A process
never sweeps its own uploads in progress, but it cannot tell another
replica's from a crashed one's: the grace must exceed the longest upload
(and the replicas' clock skew); with no prefix, it covers the whole bucket. A bucket
lifecycle rule (``AbortIncompleteMultipartUpload``) is the belt to these
braces.
Put-if-absent uses ``If-None-Match: *`` on the PUT or the completion, so
races between gateway replicas resolve in S3 itself.

S3 keeps no old versions, so a ``Blob`` reads with ``If-Match`` on the
version it was opened at; if that version was replaced meanwhile,
``ObjectChanged`` is raised before any byte is returned. An unreachable or
failing S3 raises ``StorageUnavailable``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import logging
import os
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .base import BaseBackend, Blob, Entry, ObjectInfo
from .errors import (
    AlreadyExists,
    NotFound,
    ObjectChanged,
    StorageConfigError,
    StorageError,
    StorageFull,
    StorageUnavailable,
)

PART_SIZE = 8 * 1024 * 1024  # S3 needs 5 MiB at least for all parts but the last
#: Parts of one upload sent at once, while the next one is received.
PARTS_IN_FLIGHT = 2
READ_SIZE = 1024 * 1024
#: Upload chunks smaller than this are gathered into one before being sent.
GATHER_SIZE = 64 * 1024


def _is(error: ClientError, *codes: str) -> bool:
    status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return error.response.get("Error", {}).get("Code") in codes or status in codes


log = logging.getLogger(__name__)
#: Incomplete multipart uploads older than this are aborted (seconds).
MULTIPART_GRACE = 24 * 3600

#: Error codes (and the status) of S3 servers out of room: a quota, a full
#: MinIO or Ceph, an object over the size limit.
FULL = (
    "507",
    "EntityTooLarge",
    "QuotaExceeded",
    "XMinioStorageFull",
    "InsufficientStorage",
    "XMinioAdminBucketQuotaExceeded",
)

#: What the S3 client raises when S3 cannot be reached or read.
_UNREACHABLE = (TimeoutError, BotoCoreError, OSError, aiohttp.ClientError)


def _translate(exc: Exception, key: str) -> Exception:
    """The storage error an S3 client error stands for (or itself)."""
    if isinstance(exc, ClientError):
        if _is(exc, "NoSuchKey", "404", "NotFound"):
            return NotFound(key)
        if _is(exc, "PreconditionFailed", "412", "ConditionalRequestConflict"):
            return ObjectChanged(key)
        if _is(exc, "NoSuchBucket"):
            return StorageUnavailable(f"bucket is gone: {exc}")
        if _is(exc, *FULL):
            return StorageFull(f"S3 has no room: {exc}")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        if status >= 500 or _is(exc, "SlowDown", "RequestTimeout"):
            return StorageUnavailable(f"S3 failed: {exc}")
        return exc
    if isinstance(exc, NoCredentialsError):
        return StorageConfigError(f"no AWS credentials: {exc}")
    if isinstance(exc, _UNREACHABLE):
        return StorageUnavailable(f"S3 is unreachable: {exc}")
    return exc


def _put_info(
    key: str, response: Mapping[str, Any], size: int, content_type: str, metadata: Mapping[str, str]
) -> ObjectInfo:
    """What one PutObject stored, from its answer, where a ``stat`` would
    cost every small write a second round trip. A PUT is answered with no
    Last-Modified: its Date is the same server clock at the same second.
    S3 keeps metadata keys in lower case."""
    date = response["ResponseMetadata"].get("HTTPHeaders", {}).get("date")
    return ObjectInfo(
        key=key,
        size=size,
        etag=response["ETag"].strip('"'),
        modified=parsedate_to_datetime(date).timestamp() if date else time.time(),
        content_type=content_type,
        metadata={name.lower(): value for name, value in metadata.items()},
    )


@contextlib.contextmanager
def _translated(key: str) -> Iterator[None]:
    """S3 errors as storage errors: missing, changed, or unavailable."""
    try:
        yield
    except (ClientError, *_UNREACHABLE) as exc:
        translated = _translate(exc, key)
        if translated is exc:
            raise
        raise translated from exc


class S3Blob(Blob):
    def __init__(self, backend: S3Backend, info: ObjectInfo) -> None:
        self.info = info
        self._backend = backend

    async def stream(self, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        end = self.info.size if end is None else end
        if start >= end:
            return
        key = self.info.key
        try:
            with _translated(key):
                response = await self._backend.client.get_object(
                    Bucket=self._backend.bucket,
                    Key=self._backend.full_key(key),
                    Range=f"bytes={start}-{end - 1}",
                    IfMatch=f'"{self.info.etag}"',
                )
        except NotFound:
            raise ObjectChanged(key) from None  # deleted since it was opened
        async with response["Body"] as body:
            # Passed on as they arrive: joining them into bigger chunks cost
            # a copy of every byte, more than the writes it saved.
            while True:
                try:  # not a ``with _translated``: this loop is hot
                    chunk = await body.read(READ_SIZE)
                except _UNREACHABLE as exc:
                    raise _translate(exc, key) from exc
                if not chunk:
                    break
                yield chunk


class S3Backend(BaseBackend):
    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        addressing_style: str,
        create_bucket: bool,
        pool: int,
        multipart_grace: float = MULTIPART_GRACE,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._addressing_style = addressing_style
        self._create_bucket = create_bucket
        self._pool = pool
        self._grace = multipart_grace
        self._stack = contextlib.AsyncExitStack()
        self._sweeper: asyncio.Task[None] | None = None
        #: Multipart uploads in progress in this process: never swept.
        self._uploading: set[str] = set()
        self.client: Any = None

    def full_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    async def start(self) -> None:
        config = client_config(self._addressing_style, self._pool)
        session = get_session()
        region = os.environ.get("AWS_REGION") or session.get_config_variable("region") or "us-east-1"
        self.client = await self._stack.enter_async_context(
            session.create_client("s3", region_name=region, config=config)
        )
        try:
            await self._check_bucket()
        except BaseException:
            await self.close()
            raise
        self._sweeper = asyncio.create_task(self._sweeping(), name="s3-multipart-sweep")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self._stack.aclose()

    async def _sweeping(self) -> None:
        interval = max(1.0, min(self._grace / 2, 3600.0))
        while True:
            try:
                if aborted := await self.sweep_multipart_uploads():
                    log.info("aborted %d incomplete multipart uploads older than %gs", aborted, self._grace)
            except (StorageError, ClientError) as exc:
                log.warning("multipart sweep failed, retried in %gs: %s", interval, exc)
            except Exception:  # one bad round must not end the sweeping
                log.exception("multipart sweep failed, retried in %gs", interval)
            await asyncio.sleep(interval)

    async def sweep_multipart_uploads(self) -> int:
        """Abort the incomplete multipart uploads under the prefix begun more
        than ``multipart_grace`` seconds ago; return how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self._grace)
        aborted = 0
        with _translated(self.prefix):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
            async for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] > cutoff or upload["UploadId"] in self._uploading:
                        continue
                    try:
                        await self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
                    except ClientError as exc:
                        if not _is(exc, "NoSuchUpload", "404"):  # aborted by another replica meanwhile
                            raise
        return aborted

    async def _check_bucket(self) -> None:
        try:
            with _translated(self.bucket):
                try:
                    await self.client.head_bucket(Bucket=self.bucket)
                except ClientError as exc:
                    if not (_is(exc, "404", "NoSuchBucket", "NotFound") and self._create_bucket):
                        raise
                    await self.client.create_bucket(Bucket=self.bucket)
        except NotFound:
            raise StorageConfigError(
                f"S3 bucket {self.bucket!r} does not exist (add ?create_bucket=true to create it)"
            ) from None
        except (StorageUnavailable, ClientError) as exc:
            raise StorageConfigError(f"cannot use S3 bucket {self.bucket!r}: {exc}") from None

    async def ping(self) -> None:
        with _translated(self.bucket):
            await self.client.head_bucket(Bucket=self.bucket)

    async def _put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: Mapping[str, str],
        if_absent: bool,
    ) -> ObjectInfo:
        target: dict[str, Any] = {"Bucket": self.bucket, "Key": self.full_key(key)}
        condition = {"IfNoneMatch": "*"} if if_absent else {}
        described = {"ContentType": content_type, "Metadata": dict(metadata)}
        iterator = aiter(chunks)
        first, more = await _read_part(iterator)
        try:
            if more:
                await self._put_multipart(key, target, condition, described, first, iterator)
            else:
                with _translated(key):
                    response = await self.client.put_object(
                        **target, **condition, **described, **first.checksum, Body=first.joined()
                    )
                return _put_info(key, response, len(first), content_type, metadata)
        except ObjectChanged:
            raise AlreadyExists(key) from None
        return await self.stat(key)

    async def _put_multipart(
        self,
        key: str,
        target: dict[str, Any],
        condition: dict[str, str],
        described: dict[str, Any],
        part: PartBody,
        iterator: AsyncIterator[bytes],
    ) -> None:
        with _translated(key):
            upload_id = (await self.client.create_multipart_upload(**target, **described))["UploadId"]
        self._uploading.add(upload_id)
        parts: list[dict[str, Any]] = []
        sending: set[asyncio.Task[None]] = set()

        async def send(number: int, data: PartBody) -> None:
            with _translated(key):
                response = await self.client.upload_part(
                    **target, UploadId=upload_id, PartNumber=number, **data.checksum, Body=data
                )
            parts.append({"PartNumber": number, "ETag": response["ETag"]})

        try:
            number = 1
            while part:
                if len(sending) == PARTS_IN_FLIGHT:
                    done, sending = await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                    await asyncio.gather(*done)  # a failed part ends the upload
                sending.add(asyncio.create_task(send(number, part)))
                part, _ = await _read_part(iterator)  # the next part, while these are sent
                number += 1
            await asyncio.gather(*sending)
            parts.sort(key=lambda sent: sent["PartNumber"])
            with _translated(key):
                await self.client.complete_multipart_upload(
                    **target, **condition, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            for task in sending:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*sending)
            # Shielded: a cancelled upload must still release its parts.
            with contextlib.suppress(Exception):
                await asyncio.shield(self.client.abort_multipart_upload(**target, UploadId=upload_id))
            raise
        finally:
            self._uploading.discard(upload_id)

    async def _stat(self, key: str) -> ObjectInfo:
        with _translated(key):
            head = await self.client.head_object(Bucket=self.bucket, Key=self.full_key(key))
        return ObjectInfo(
            key=key,
            size=head["ContentLength"],
            etag=head["ETag"].strip('"'),
            modified=head["LastModified"].timestamp(),
            content_type=head.get("ContentType") or "application/octet-stream",
            metadata=head.get("Metadata", {}),
        )

    @contextlib.asynccontextmanager
    async def _open(self, key: str) -> AsyncIterator[Blob]:
        yield S3Blob(self, await self._stat(key))

    async def _get_bytes(self, key: str) -> bytes:
        """One GET, where ``open`` needs a HEAD first: records are read often
        (a page of 50 files is 50 of them), and one response is one version."""
        with _translated(key):
            response = await self.client.get_object(Bucket=self.bucket, Key=self.full_key(key))
            async with response["Body"] as body:
                return await body.read()

    async def _delete(self, key: str) -> bool:
        # S3 does not say whether there was an object; ask first.
        try:
            await self._stat(key)
        except NotFound:
            return False
        with _translated(key):
            await self.client.delete_object(Bucket=self.bucket, Key=self.full_key(key))
        return True

    async def delete_prefix(self, prefix: str) -> int:
        """Up to 1000 keys a request, rather than one HEAD and DELETE each."""
        count = 0
        while page := await self.list(prefix, limit=1000):
            objects = [{"Key": self.full_key(entry.key)} for entry in page]
            with _translated(prefix):
                response = await self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                )
            if response.get("Errors"):
                raise StorageUnavailable(f"S3 refused to delete: {response['Errors'][:3]}")
            count += len(page)
        return count

    async def _list(self, prefix: str, start_after: str, limit: int) -> list[Entry]:
        entries: list[Entry] = []
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.full_key(prefix)}
        if start_after:
            request["StartAfter"] = self.full_key(start_after)
        while len(entries) < limit:
            with _translated(prefix):
                page = await self.client.list_objects_v2(**request, MaxKeys=limit - len(entries))
            for item in page.get("Contents", []):
                entries.append(
                    Entry(
                        key=item["Key"][len(self.prefix) :],
                        size=item["Size"],
                        etag=item["ETag"].strip('"'),
                        modified=item["LastModified"].timestamp(),
                    )
                )
            if not page.get("IsTruncated"):
                break
            request["ContinuationToken"] = page["NextContinuationToken"]
        return entries[:limit]


def client_config(addressing_style: str = "auto", pool: int = 50) -> AioConfig:
    """How the gateway talks to S3 (the benchmark's direct client too).

    The body is not SHA-256 signed (botocore would hash every byte of plain
    HTTP uploads: seconds of CPU per GiB); integrity comes from the CRC32
    checksums S3 verifies on upload and botocore on download, and from TLS.
    """
    return AioConfig(
        max_pool_connections=pool,
        s3={"addressing_style": addressing_style, "payload_signing_enabled": False},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=60,
    )


class PartBody:
    """One part's bytes as the chunks they came in, with their CRC32.

    aiohttp sends it as an async iterable of known length, chunk by chunk:
    the bytes are never joined into one buffer, nor copied into the socket's
    send buffer 8 MiB at a time as a ``bytes`` body is (Python 3.11's
    transport); small chunks are gathered, as each one sent is a socket
    write. The CRC32 S3 checks is computed while the chunks arrive and given
    as ``ChecksumCRC32``, so botocore does not read the body again.
    botocore takes a body only if it has ``read``, and rewinds it with
    ``seek`` before a retry; both are a file's over the same bytes, and
    iterating always yields all of them.
    """

    def __init__(self) -> None:
        self._chunks: list[bytes | bytearray] = []
        self._size = 0
        self._crc = 0
        self._file: io.BytesIO | None = None

    def add(self, chunk: bytes) -> None:
        self._crc = zlib.crc32(chunk, self._crc)
        self._size += len(chunk)
        if type(chunk) is bytes and len(chunk) >= GATHER_SIZE:
            self._chunks.append(chunk)  # immutable: kept, not copied
        elif self._chunks and isinstance(last := self._chunks[-1], bytearray) and len(last) < GATHER_SIZE:
            last += chunk
        else:
            self._chunks.append(bytearray(chunk))

    def __len__(self) -> int:
        return self._size

    async def __aiter__(self) -> AsyncIterator[bytes | bytearray]:
        for chunk in self._chunks:
            yield chunk

    def read(self, size: int = -1) -> bytes:
        return self._as_file().read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._file is None and (offset, whence) == (0, io.SEEK_SET):
            return 0  # a retry's rewind, before any read
        return self._as_file().seek(offset, whence)

    def _as_file(self) -> io.BytesIO:
        if self._file is None:
            self._file = io.BytesIO(self.joined())
        return self._file

    def joined(self) -> bytearray:
        """The bytes in one buffer, for a small object's single PUT: botocore
        asks ``Expect: 100-continue`` for a body with ``read``, a round trip
        more than a record's write should wait (a part's is hidden by the
        other part in flight)."""
        return bytearray().join(self._chunks)

    @property
    def checksum(self) -> dict[str, str]:
        """The parameter that gives S3 the part's CRC32."""
        return {"ChecksumCRC32": base64.b64encode(self._crc.to_bytes(4, "big")).decode()}


async def _read_part(iterator: AsyncIterator[bytes]) -> tuple[PartBody, bool]:
    """Up to PART_SIZE bytes, and whether the stream goes on beyond them."""
    part = PartBody()
    async for chunk in iterator:
        part.add(chunk)
        if len(part) >= PART_SIZE:
            return part, True
    return part, False


def from_url(url: str) -> S3Backend:
    parts = urlsplit(url)
    bucket = parts.netloc
    if not 3 <= len(bucket) <= 63:
        raise StorageConfigError(f"S3 bucket names have 3 to 63 characters, not {bucket!r}")
    prefix = parts.path.strip("/")
    options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"addressing_style", "create_bucket", "pool", "multipart_grace"}
    if unknown:
        raise StorageConfigError(f"unknown S3 storage options: {', '.join(sorted(unknown))}")
    style = options.get("addressing_style", "auto")
    if style not in ("auto", "virtual", "path"):
        raise StorageConfigError("addressing_style must be auto, virtual or path")
    create = options.get("create_bucket", "false").lower()
    if create not in ("true", "false"):
        raise StorageConfigError("create_bucket must be true or false")
    pool = options.get("pool", "50")
    if not pool.isdigit() or not 1 <= int(pool) <= 1000:
        raise StorageConfigError("pool must be a number of connections from 1 to 1000")
    grace = options.get("multipart_grace", str(MULTIPART_GRACE))
    if not grace.isdigit() or len(grace) > 9:
        raise StorageConfigError("multipart_grace must be a number of seconds")
    return S3Backend(
        bucket,
        f"{prefix}/" if prefix else "",
        addressing_style=style,
        create_bucket=create == "true",
        pool=int(pool),
        multipart_grace=int(grace),
    )
