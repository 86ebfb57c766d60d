"""Processing jobs: ``folder-jobs/<file id>.json``, one per file still to
be processed, holding a lease (``owner``, ``lease_until``) that whoever
works on the file renews: the upload while it streams, then the worker
processing it. A job whose lease ran out is taken over by the scan
(``processing.py``), which finds there what a crash left half-done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from backends import BaseBackend, StorageUnavailable

log = logging.getLogger(__name__)

JOBS = "folder-jobs/"


def job_key(file_id: str) -> str:
    return f"{JOBS}{file_id}.json"


@contextlib.asynccontextmanager
async def holding(storage: BaseBackend, key: str, job: dict, owner: str, lease_seconds: float) -> AsyncIterator[None]:
    """Hold the job's lease for ``owner`` while the body runs: written at
    once, then renewed every third of the lease."""

    async def write() -> None:
        job.update(owner=owner, lease_until=time.time() + lease_seconds)
        await storage.put_json(key, job)

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease_seconds / 3)
            try:
                await write()
            except StorageUnavailable as exc:  # try again at the next renewal
                log.warning("cannot renew the lease of %s: %s", key, exc)

    await write()
    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        # Not ``suppress(CancelledError)``: that would also swallow a
        # cancellation of this worker arriving here, and close() would
        # wait for ever on a worker back at its queue.
        await asyncio.gather(renewing, return_exceptions=True)
