from aiohttp import web

from . import views


def setup_routes(app: web.Application) -> None:
    """Routes relative to the ``/v1`` prefix this sub-app is mounted at;
    folder create and list answer with and without the trailing slash."""
    for path in ("/folders", "/folders/"):
        app.router.add_post(path, views.create_folder)
        app.router.add_get(path, views.list_folders)
    app.router.add_get("/folders/{folder_id}", views.get_folder)
    app.router.add_patch("/folders/{folder_id}", views.update_folder)
    app.router.add_delete("/folders/{folder_id}", views.delete_folder)
    app.router.add_get("/folders/{folder_id}/agents", views.list_agents)
    app.router.add_post("/folders/{folder_id}/upload", views.upload_file)
    app.router.add_get("/folders/{folder_id}/files", views.list_files)
    app.router.add_get("/folders/{folder_id}/files/{file_id}", views.get_file)
    app.router.add_delete("/folders/{folder_id}/{file_id}", views.delete_file)
