"""Processing jobs: ``folder-jobs/<file id>.json``, one per file still to
be processed, holding a lease (``owner``, ``lease_until``) that whoever
works on the file renews: the upload while it streams, then the worker
processing it. A job whose lease ran out is taken over by the scan
(``processing.py``), which finds there what a crash left half-done: the job
names the folder, the name and the creation time of its file, so that a cut
upload's keys can be found and removed even when its record was never
written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Container
from datetime import datetime

from pydantic import BaseModel

from backends import BaseBackend, NotFound, StorageUnavailable

log = logging.getLogger(__name__)

JOBS = "folder-jobs/"


class Job(BaseModel):
    folder_id: str
    #: The name the file was uploaded as and its creation time; absent in
    #: the jobs of older versions.
    file_name: str | None = None
    created_at: datetime | None = None
    owner: str | None = None
    lease_until: float = 0
    #: Processing starts, counted so that a file that kills every process
    #: working on it ends in ``error``.
    attempts: int = 0


class Jobs:
    def __init__(self, storage: BaseBackend, owner: str | None = None) -> None:
        """``owner``: this process, in the leases it holds."""
        self.storage = storage
        self.owner = owner or str(uuid.uuid4())

    @staticmethod
    def _key(file_id: str) -> str:
        return f"{JOBS}{file_id}.json"

    async def get(self, file_id: str) -> Job | None:
        try:
            return Job.model_validate(await self.storage.get_json(self._key(file_id)))
        except NotFound:
            return None

    async def put(self, file_id: str, job: Job) -> None:
        await self.storage.put_json(self._key(file_id), job.model_dump(mode="json"))

    async def remove(self, file_id: str) -> None:
        await self.storage.delete(self._key(file_id))

    async def exists(self, file_id: str) -> bool:
        try:
            await self.storage.stat(self._key(file_id))
        except NotFound:
            return False
        return True

    async def is_live(self, file_id: str) -> bool:
        """Whether someone works on the file: its job's lease runs."""
        job = await self.get(file_id)
        return job is not None and job.lease_until >= time.time()

    async def expired(self, skip: Container[str] = ()) -> AsyncIterator[str]:
        """The files whose job's lease has run out, but those in ``skip``
        (whose jobs are not read)."""
        async for entry in self.storage.iter_all(JOBS):
            file_id = entry.key[len(JOBS) :].removesuffix(".json")
            if file_id in skip:
                continue
            job = await self.get(file_id)
            if job is not None and job.lease_until < time.time():
                yield file_id

    async def lease(self, file_id: str, job: Job, lease_seconds: float) -> None:
        """Write the job with a lease of ``lease_seconds`` for this process."""
        job.owner, job.lease_until = self.owner, time.time() + lease_seconds
        await self.put(file_id, job)

    @contextlib.asynccontextmanager
    async def holding(
        self, file_id: str, job: Job, lease_seconds: float, *, leased: bool = False
    ) -> AsyncIterator[None]:
        """Hold the job's lease for this process while the body runs: written
        at once (unless ``leased`` says the caller just did), then renewed
        every third of the lease."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(lease_seconds / 3)
                try:
                    await self.lease(file_id, job, lease_seconds)
                except StorageUnavailable as exc:  # try again at the next renewal
                    log.warning("cannot renew the lease of job %s: %s", file_id, exc)

        if not leased:
            await self.lease(file_id, job, lease_seconds)
        renewing = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            # Not ``suppress(CancelledError)``: that would also swallow a
            # cancellation of this worker arriving here, and close() would
            # wait for ever on a worker back at its queue.
            await asyncio.gather(renewing, return_exceptions=True)
