from aiohttp import web

from ..http.uploads import expect_upload
from . import views


def setup_routes(app: web.Application) -> None:
    """Routes relative to the ``/api`` prefix this sub-app is mounted at."""
    app.router.add_post("/sessions", views.create_session)
    app.router.add_get("/sessions", views.list_sessions)
    app.router.add_get("/sessions/{id}", views.get_session)
    app.router.add_delete("/sessions/{id}", views.delete_session)
    app.router.add_get("/sessions/{id}/files", views.list_files)
    app.router.add_post("/sessions/{id}/files/upload", views.upload_file, expect_handler=expect_upload)
    # ".+" so that a name with a (decoded) slash gets a clear 400, not a 404.
    app.router.add_get("/sessions/{id}/files/{filename:.+}", views.get_file, name=views.FILE_ROUTE)
    app.router.add_delete("/sessions/{id}/files/{filename:.+}", views.delete_file, name=views.FILE_ROUTE)
