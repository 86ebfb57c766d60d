"""Handlers of the session files API. Status codes are the client's: 201 for
creations and uploads, 204 for deletions, 200 otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from aiohttp import hdrs, web
from yarl import URL

from backends import Entry, NotFound

from ..http.bodies import read_json
from ..http.downloads import cache_control, send_object, version_tag
from ..http.errors import ApiError, invalid, not_found
from ..http.filenames import check_name
from ..http.query import Query, parse_query
from ..http.signing import LINKS
from ..http.uploads import receiving
from ..state import SETTINGS
from ..thumbnails import THUMBNAILS, Busy, MediaError, ThumbSpec, negotiate
from .models import CreateSession
from .queries import FileQuery, SessionsQuery
from .store import SESSIONS, content_type_of, parse_session_id

#: The route of one file, which its signed links open.
FILE_ROUTE = "session-file"
SESSION_ROUTE = "session"


def _query(request: web.Request, model: type[Query]) -> Query:
    return parse_query(request, model, invalid)


def file_target(session_id: str, name: str) -> str:
    """What a signed link to this file names: the file and its session."""
    return f"session-file\n{session_id}\n{name}"


def linked_file(request: web.Request) -> str | None:
    """The target of a file route's request, as its signed link names it."""
    resource = request.match_info.route.resource
    if resource is None or resource.name != FILE_ROUTE:
        return None
    return file_target(request.match_info["id"], request.match_info["filename"])


async def existing_session(request: web.Request) -> str:
    """The id in the path, of a session that exists."""
    session_id = parse_session_id(request.match_info["id"])
    await request.config_dict[SESSIONS].get(session_id)
    return session_id


def file_not_found(session_id: str, name: str) -> Exception:
    return not_found(f"File '{name}' not found in session '{session_id}'")


def located(request: web.Request, route: str, **parts: str) -> URL:
    """The absolute URL of a named route, as the client sees this gateway."""
    path = request.app.router[route].url_for(**parts)
    return request.url.with_path(path.raw_path, encoded=True)


def file_infos(request: web.Request, session_id: str, files: Iterable[tuple[str, Entry]]) -> list[dict]:
    """Each file as listed, a ``FileInfo`` on the wire; its ``url`` names
    this version (``v``, so that browsers may cache what it opens) and, with
    API keys, is a signed link. Built by hand, not through the model and a
    URL per file, which cost more than listing the file: the name is quoted
    as ``url_for`` quotes it, and every query value (hex, digits, URL-safe
    base64) needs no escaping."""
    base = str(located(request, FILE_ROUTE, id=session_id, filename=""))
    sign = request.config_dict[LINKS].sign
    infos = []
    for name, entry in files:
        query = f"v={version_tag(entry.etag)}" + "".join(
            f"&{k}={v}" for k, v in sign(file_target(session_id, name)).items()
        )
        url = f"{base}{URL.build(path=name, encoded=False).raw_path}?{query}"
        infos.append({"name": name, "size": entry.size, "modified": int(entry.modified), "isDir": False, "url": url})
    return infos


def caching(request: web.Request, version: str | None, etag: str) -> str:
    """``Cache-Control`` of what a request naming ``version`` (``v``) for the
    file at ``etag`` gets."""
    return cache_control(version, etag, private=bool(request.config_dict[SETTINGS].api_keys))


async def create_session(request: web.Request) -> web.Response:
    session = await request.config_dict[SESSIONS].create(await read_json(request, CreateSession))
    location = located(request, SESSION_ROUTE, id=session.id)
    return web.json_response(session.wire(), status=201, headers={hdrs.LOCATION: str(location)})


async def list_sessions(request: web.Request) -> web.Response:
    _query(request, SessionsQuery)
    return web.json_response(await request.config_dict[SESSIONS].all())


async def get_session(request: web.Request) -> web.Response:
    session = await request.config_dict[SESSIONS].get(parse_session_id(request.match_info["id"]))
    return web.json_response(session.wire())


async def delete_session(request: web.Request) -> web.Response:
    session_id, sessions = parse_session_id(request.match_info["id"]), request.config_dict[SESSIONS]
    await sessions.delete(session_id)
    # With its stored thumbnails, this process's copies of its images go.
    request.config_dict[THUMBNAILS].forget_under(sessions.files_prefix(session_id))
    return web.Response(status=204)


async def list_files(request: web.Request) -> web.Response:
    session_id = await existing_session(request)
    files = await request.config_dict[SESSIONS].files(session_id)
    return web.json_response(file_infos(request, session_id, files))


async def upload_file(request: web.Request) -> web.Response:
    session_id = await existing_session(request)
    sessions = request.config_dict[SESSIONS]
    async with receiving(request, check_name) as upload:
        info = await sessions.put_file(session_id, upload.name, upload.chunks)
    request.config_dict[THUMBNAILS].forget(sessions.file_key(session_id, upload.name))
    location = located(request, FILE_ROUTE, id=session_id, filename=upload.name)
    return web.json_response(
        file_infos(request, session_id, [(upload.name, info)])[0], status=201, headers={hdrs.LOCATION: str(location)}
    )


async def get_file(request: web.Request) -> web.StreamResponse:
    session_id = await existing_session(request)
    name = check_name(request.match_info["filename"])
    query = _query(request, FileQuery)
    sessions = request.config_dict[SESSIONS]
    if query.thumb is not None:
        return await thumbnail(request, session_id, name, query.thumb, query)
    try:
        return await send_object(
            request,
            lambda: sessions.open_file(session_id, name),
            filename=name,
            content_type=content_type_of(name),
            caching=lambda info: caching(request, query.v, info.etag),
        )
    except NotFound:
        raise file_not_found(session_id, name) from None


async def thumbnail(
    request: web.Request, session_id: str, name: str, spec: ThumbSpec, query: FileQuery
) -> web.StreamResponse:
    thumbnails, sessions = request.config_dict[THUMBNAILS], request.config_dict[SESSIONS]
    kind = thumbnails.kind(name)
    if kind is None:
        raise invalid(f"No thumbnail for '{name}': thumbnails are made of images and videos")
    output = negotiate(request.headers.get(hdrs.ACCEPT))
    filename = f"{PurePosixPath(name).stem or name}{output.extension}"
    try:
        source = await sessions.stat_file(session_id, name)
        prefix = sessions.thumbnail_prefix(session_id, name)
        return await send_object(
            request,
            lambda: thumbnails.open(source, prefix, spec, query.time if kind == "video" else None, output),
            filename=filename,
            content_type=output.media_type,
            # Made of the source version the link names, if it does.
            caching=lambda _: caching(request, query.v, source.etag),
            headers={hdrs.VARY: hdrs.ACCEPT},
            # A cached thumbnail never changes; a source replaced while one is
            # made is answered at once, not made again.
            attempts=1,
        )
    except NotFound:  # the file, or its thumbnail with it, was just deleted
        raise file_not_found(session_id, name) from None
    except MediaError as exc:
        raise invalid(f"No thumbnail for '{name}': {exc}") from None
    except TimeoutError:
        raise ApiError(503, "Thumbnail generation took too long; try again", headers={"Retry-After": "5"}) from None
    except Busy:
        raise ApiError(503, "Too many thumbnails are being made; try again", headers={"Retry-After": "5"}) from None


async def delete_file(request: web.Request) -> web.Response:
    session_id = await existing_session(request)
    name = check_name(request.match_info["filename"])
    sessions = request.config_dict[SESSIONS]
    deleted = await sessions.delete_file(session_id, name)
    # Even if another process deleted it first: its copies here are of no use.
    request.config_dict[THUMBNAILS].forget(sessions.file_key(session_id, name))
    if not deleted:
        raise file_not_found(session_id, name)
    return web.Response(status=204)
