"""Sessions and their files in storage.

- ``sessions/<id>.json``: the session record; ``session-packs/``: copies of
  many records at once, for listings (see ``listing.py``);
- ``session-files/<id>/<name>``: the session's files, one object each;
- ``session-thumbnails/<id>/<name>/<etag>/<spec>.jpg``: cached thumbnails,
  removed with their file (and unreachable once the file changes).
"""

from __future__ import annotations

import contextlib
import mimetypes
import uuid
from collections.abc import AsyncIterable
from datetime import UTC, datetime

from aiohttp import web

from backends import BaseBackend, Blob, Entry, NotFound, ObjectInfo

from .exceptions import InvalidSessionId, SessionNotFound
from .listing import SessionListing
from .models import CreateSession, Session

RECORDS = "sessions/"
FILES = "session-files/"
THUMBS = "session-thumbnails/"


def parse_session_id(raw: str) -> str:
    """The canonical form of a session id, which must be a UUID."""
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise InvalidSessionId(f"Invalid session ID format: {raw!r} is not a UUID") from None
    if len(raw) != 36:
        raise InvalidSessionId(f"Invalid session ID format: {raw!r} is not a UUID")
    return str(parsed)


def content_type_of(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


class SessionStore:
    def __init__(self, storage: BaseBackend) -> None:
        self.storage = storage
        self.listing = SessionListing(storage, RECORDS)

    async def create(self, request: CreateSession) -> Session:
        """One write, the record (put-if-absent, so a repeated id can never
        overwrite a session): nothing to order, and a crash leaves either
        the whole session or nothing."""
        session = Session(
            id=str(uuid.uuid4()),
            title=request.title,
            browser_mode=request.browser_mode,
            created_at=datetime.now(UTC),
            cdp_url=request.cdp_url,
            callbacks=request.callbacks,
        )
        record = session.wire() | request.model_dump(
            mode="json", by_alias=True, include={"prompt_mode", "custom_system_prompt"}, exclude_none=True
        )
        await self.storage.put_json(f"{RECORDS}{session.id}.json", record, if_absent=True)
        return session

    async def get(self, session_id: str) -> Session:
        try:
            return Session.model_validate(await self.storage.get_json(f"{RECORDS}{session_id}.json"))
        except NotFound:
            raise SessionNotFound(f"Session with ID '{session_id}' not found") from None

    async def all(self) -> list[dict]:
        """The wire form of every session, newest first."""
        return await self.listing.all()

    async def delete(self, session_id: str) -> None:
        """Delete the files first: an interrupted delete can be retried."""
        await self.get(session_id)
        await self.storage.delete_prefix(f"{THUMBS}{session_id}/")
        await self.storage.delete_prefix(self.files_prefix(session_id))
        await self.storage.delete(f"{RECORDS}{session_id}.json")

    def files_prefix(self, session_id: str) -> str:
        return f"{FILES}{session_id}/"

    def file_key(self, session_id: str, name: str) -> str:
        """The storage key of a session's file (and of its thumbnails' source)."""
        return f"{self.files_prefix(session_id)}{name}"

    async def files(self, session_id: str) -> list[tuple[str, Entry]]:
        """(name, entry) of each file of the session, by name."""
        prefix = self.files_prefix(session_id)
        return [(entry.key[len(prefix) :], entry) async for entry in self.storage.iter_all(prefix)]

    def thumbnail_prefix(self, session_id: str, name: str) -> str:
        return f"{THUMBS}{session_id}/{name}/"

    async def put_file(self, session_id: str, name: str, chunks: AsyncIterable[bytes]) -> ObjectInfo:
        info = await self.storage.put(self.file_key(session_id, name), chunks, content_type=content_type_of(name))
        await self.storage.delete_prefix(self.thumbnail_prefix(session_id, name))
        return info

    async def stat_file(self, session_id: str, name: str) -> ObjectInfo:
        return await self.storage.stat(self.file_key(session_id, name))

    def open_file(self, session_id: str, name: str) -> contextlib.AbstractAsyncContextManager[Blob]:
        return self.storage.open(self.file_key(session_id, name))

    async def delete_file(self, session_id: str, name: str) -> bool:
        await self.storage.delete_prefix(self.thumbnail_prefix(session_id, name))
        return await self.storage.delete(self.file_key(session_id, name))


SESSIONS = web.AppKey("sessions", SessionStore)
