"""Handlers of the folder files API. Lists are bare JSON arrays, as the
client's auto-pagination expects; query values it cannot have meant are a
422, as upstream's validation answers them."""

from __future__ import annotations

from aiohttp import web

from ..http.bodies import read_json
from ..http.errors import ApiError, bad_request
from ..http.filenames import check_path_name
from ..http.query import Query, parse_query
from ..http.uploads import receiving
from .filetypes import file_type
from .models import CreateFolder, UpdateFolder, parse_id
from .processing import PROCESSOR
from .queries import FilePage, FileQuery, FolderPage, MetadataQuery, PassagePage, SourcePage, UploadQuery
from .store import FOLDERS


def _query(request: web.Request, model: type[Query]) -> Query:
    return parse_query(request, model, lambda message: ApiError(422, message))


def _folder_id(request: web.Request) -> str:
    """The folder of a ``/folders/{folder_id}`` or ``/sources/{source_id}`` route."""
    match = request.match_info
    return parse_id(match["folder_id"] if "folder_id" in match else match["source_id"], "source")


async def create_folder(request: web.Request) -> web.Response:
    folder = await request.config_dict[FOLDERS].create_folder(await read_json(request, CreateFolder))
    return web.json_response(folder.wire())


async def list_folders(request: web.Request, model: type[FolderPage] = FolderPage) -> web.Response:
    query = _query(request, model)
    folders = await request.config_dict[FOLDERS].list_folders(**query.page(), name=query.name)
    return web.json_response([folder.wire() for folder in folders])


async def list_sources(request: web.Request) -> web.Response:
    return await list_folders(request, SourcePage)


async def count_folders(request: web.Request) -> web.Response:
    return web.json_response(await request.config_dict[FOLDERS].count_folders())


async def folder_id_by_name(request: web.Request) -> web.Response:
    """The id alone, as upstream answers it."""
    return web.json_response((await request.config_dict[FOLDERS].folder_by_name(request.match_info["folder_name"])).id)


async def folders_metadata(request: web.Request) -> web.Response:
    detailed = _query(request, MetadataQuery).include_detailed_per_source_metadata
    return web.json_response((await request.config_dict[FOLDERS].stats(detailed)).wire())


async def list_passages(request: web.Request) -> web.Response:
    """A folder's embedded chunks: none, as nothing is embedded without an
    embedder; the folder and the query are still checked."""
    await request.config_dict[FOLDERS].get_folder(_folder_id(request))
    _query(request, PassagePage)
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
    try:
        query = _query(request, UploadQuery)

        def name_of(sent: str) -> str:
            # Path-like (``a/b/notes.md``): a logical name, never a storage path.
            name = check_path_name(query.name or sent)
            if name.rpartition("/")[2].startswith("."):
                raise bad_request(f"File name '{name}' must not start with '.'")
            return name

        async with receiving(request, name_of) as upload:
            mime = file_type(upload.name, upload.content_type)
            meta, skipped = await store.add_file(folder_id, upload.name, mime, upload.chunks, query.duplicate_handling)
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
    query = _query(request, FilePage)
    files = await store.list_files(folder.id, **query.page(), include_content=query.include_content)
    return web.json_response([meta.wire() for meta in files])


async def get_file(request: web.Request) -> web.Response:
    folder_id, file_id = _folder_id(request), parse_id(request.match_info["file_id"], "file")
    include_content = _query(request, FileQuery).include_content
    meta = await request.config_dict[FOLDERS].get_file(folder_id, file_id, include_content)
    return web.json_response(meta.wire())


async def delete_file(request: web.Request) -> web.Response:
    store = request.config_dict[FOLDERS]
    folder = await store.get_folder(_folder_id(request))
    await store.delete_file(folder.id, parse_id(request.match_info["file_id"], "file"))
    return web.Response(status=204)
