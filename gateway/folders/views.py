"""Handlers of the folder files API. Lists are bare JSON arrays, as the
client's auto-pagination expects; query values it cannot have meant are a
422, as upstream's validation answers them."""

from __future__ import annotations

from typing import cast, get_args

from aiohttp import web

from ..http.bodies import read_json
from ..http.errors import ApiError, bad_request
from ..http.filenames import check_path_name
from ..http.uploads import receiving
from .filetypes import file_type
from .index import Order
from .models import CreateFolder, UpdateFolder, parse_id
from .processing import PROCESSOR
from .store import FOLDERS, Duplicates

#: Largest page; a bigger ``limit`` gets this many and pagination goes on.
MAX_PAGE = 1000


def _choice(request: web.Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query.get(name, default)
    if value not in choices:
        raise ApiError(422, f"Query parameter {name} must be one of: {', '.join(choices)}")
    return value


def _flag(request: web.Request, name: str) -> bool:
    return _choice(request, name, ("true", "false", "1", "0"), "false") in ("true", "1")


def _page(request: web.Request, prefix: str, default_limit: int, default_order: Order) -> dict:
    raw = request.query.get("limit", str(default_limit))
    # isdigit() alone would let "²" through to int(); more digits than a
    # page could ever need are refused too.
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9) or int(raw) < 1:
        raise ApiError(422, "Query parameter limit must be a positive integer")
    _choice(request, "order_by", ("created_at",), "created_at")
    cursors = {c: parse_id(request.query[c], prefix) if c in request.query else None for c in ("after", "before")}
    order = _choice(request, "order", ("asc", "desc"), default_order)
    return {"order": order, "limit": min(int(raw), MAX_PAGE), **cursors}


def _folder_id(request: web.Request) -> str:
    """The folder of a ``/folders/{folder_id}`` or ``/sources/{source_id}`` route."""
    match = request.match_info
    return parse_id(match["folder_id"] if "folder_id" in match else match["source_id"], "source")


async def create_folder(request: web.Request) -> web.Response:
    folder = await request.config_dict[FOLDERS].create_folder(await read_json(request, CreateFolder))
    return web.json_response(folder.wire())


async def list_folders(request: web.Request, default_limit: int = 50) -> web.Response:
    page = _page(request, "source", default_limit, "asc")
    folders = await request.config_dict[FOLDERS].list_folders(**page, name=request.query.get("name"))
    return web.json_response([folder.wire() for folder in folders])


async def list_sources(request: web.Request) -> web.Response:
    """The 0.x client lists sources without paging: the largest page by default."""
    return await list_folders(request, MAX_PAGE)


async def count_folders(request: web.Request) -> web.Response:
    return web.json_response(await request.config_dict[FOLDERS].count_folders())


async def folder_id_by_name(request: web.Request) -> web.Response:
    """The id alone, as upstream answers it."""
    return web.json_response((await request.config_dict[FOLDERS].folder_by_name(request.match_info["folder_name"])).id)


async def folders_metadata(request: web.Request) -> web.Response:
    detailed = _flag(request, "include_detailed_per_source_metadata")
    return web.json_response((await request.config_dict[FOLDERS].stats(detailed)).wire())


async def list_passages(request: web.Request) -> web.Response:
    """A folder's embedded chunks: none, as nothing is embedded without an
    embedder; the folder and the query are still checked."""
    await request.config_dict[FOLDERS].get_folder(_folder_id(request))
    _page(request, "passage", 100, "asc")
    return web.json_response([])


async def get_folder(request: web.Request) -> web.Response:
    return web.json_response((await request.config_dict[FOLDERS].get_folder(_folder_id(request))).wire())


async def update_folder(request: web.Request) -> web.Response:
    changes = await read_json(request, UpdateFolder)
    folder = await request.config_dict[FOLDERS].update_folder(_folder_id(request), changes)
    return web.json_response(folder.wire())


async def delete_folder(request: web.Request) -> web.Response:
    await request.config_dict[FOLDERS].delete_folder(_folder_id(request))
    # 200 with JSON null: letta-client cannot read a 204 that declares JSON.
    return web.json_response(None)


async def list_agents(request: web.Request) -> web.Response:
    """This gateway keeps no agents, so no agent uses a folder."""
    await request.config_dict[FOLDERS].get_folder(_folder_id(request))
    return web.json_response([])


async def upload_file(request: web.Request) -> web.Response:
    store, folder_id = request.config_dict[FOLDERS], _folder_id(request)

    def name_of(sent: str) -> str:
        # Path-like (``a/b/notes.md``): a logical name, never a storage path.
        name = check_path_name(request.query.get("name") or sent)
        if name.rpartition("/")[2].startswith("."):
            raise bad_request(f"File name '{name}' must not start with '.'")
        return name

    try:
        mode = cast(Duplicates, _choice(request, "duplicate_handling", get_args(Duplicates), "suffix"))
        async with receiving(request, name_of) as upload:
            mime = file_type(upload.name, upload.content_type)
            meta, skipped = await store.add_file(folder_id, upload.name, mime, upload.chunks, mode)
    except ApiError:
        # The store reads the folder with the upload's first writes; a
        # request refused before (or while) it does still gets a missing
        # folder's 404 first, as the folder is the path's first part.
        await store.get_folder(folder_id)
        raise
    if skipped:
        return web.json_response(meta.wire(), headers={"X-Upload-Result": "skipped"})
    request.config_dict[PROCESSOR].submit(meta.id)
    return web.json_response(meta.wire())


async def list_files(request: web.Request) -> web.Response:
    store = request.config_dict[FOLDERS]
    folder = await store.get_folder(_folder_id(request))
    page = _page(request, "file", 1000, "desc")
    # The 0.x client's sources listing asks for a status refresh from a
    # vector database; statuses here are always current.
    _flag(request, "check_status_updates")
    files = await store.list_files(folder.id, **page, include_content=_flag(request, "include_content"))
    return web.json_response([meta.wire() for meta in files])


async def get_file(request: web.Request) -> web.Response:
    folder_id, file_id = _folder_id(request), parse_id(request.match_info["file_id"], "file")
    include_content = _flag(request, "include_content")
    meta = await request.config_dict[FOLDERS].get_file(folder_id, file_id, include_content)
    return web.json_response(meta.wire())


async def delete_file(request: web.Request) -> web.Response:
    store = request.config_dict[FOLDERS]
    folder = await store.get_folder(_folder_id(request))
    await store.delete_file(folder.id, parse_id(request.match_info["file_id"], "file"))
    return web.Response(status=204)
