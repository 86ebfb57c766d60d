from aiohttp import web

from ..http.uploads import expect_upload
from . import views

#: The folder API under its name and its older one, ``sources`` (what
#: letta-client 0.x calls): one set of handlers over the same folders.
FAMILIES = (("folders", "folder_id"), ("sources", "source_id"))


def setup_routes(app: web.Application) -> None:
    """Routes relative to the ``/v1`` prefix this sub-app is mounted at;
    create and list answer with and without the trailing slash. The literal
    segments (``count``, ``metadata``, ``name``) come before the id routes,
    so that none is ever taken for an id."""
    for family, param in FAMILIES:
        base, one = f"/{family}", f"/{family}/{{{param}}}"
        for path in (base, f"{base}/"):
            app.router.add_post(path, views.create_folder)
            app.router.add_get(path, views.list_folders if family == "folders" else views.list_sources)
        app.router.add_get(f"{base}/count", views.count_folders)
        app.router.add_get(f"{base}/metadata", views.folders_metadata)
        app.router.add_get(f"{base}/name/{{folder_name:.+}}", views.folder_id_by_name)
        app.router.add_get(one, views.get_folder)
        app.router.add_patch(one, views.update_folder)
        app.router.add_delete(one, views.delete_folder)
        app.router.add_get(f"{one}/agents", views.list_agents)
        app.router.add_get(f"{one}/passages", views.list_passages)
        app.router.add_post(f"{one}/upload", views.upload_file, expect_handler=expect_upload)
        app.router.add_get(f"{one}/files", views.list_files)
        app.router.add_get(f"{one}/files/{{file_id}}", views.get_file)
        app.router.add_delete(f"{one}/{{file_id}}", views.delete_file)
