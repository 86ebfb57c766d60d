"""The session API's operations, relative to the ``/api`` prefix its app is
mounted at: its router and its part of ``/openapi.json`` both come from here."""

from aiohttp import hdrs

from ..http.routes import REST, STATUS_TEXTS, Errors, Operation, Reply, RouteTable
from . import views
from .errors import Error
from .models import CreateSession, FileInfo, Session
from .queries import FileQuery, SessionsQuery

FILE = f"/sessions/{{id}}/files/{{filename:{REST}}}"
#: The body of a download or a thumbnail: the file's own type (by its name),
#: or JPEG or WebP as ``Accept`` asks.
MEDIA = {media: {"schema": {"type": "string", "format": "binary"}} for media in ("*/*", "image/jpeg", "image/webp")}
DOWNLOAD = {
    200: Reply(
        "The file (Range, ETag and conditional requests supported), or with thumb= its thumbnail: "
        "WebP when Accept lists image/webp, else JPEG (Vary: Accept)",
        content=MEDIA,
    ),
    206: Reply("The requested byte range", content=MEDIA),
    304: Reply("Not modified"),
}
TAGS = ("sessions",)
LOCATED = {"Location": {"description": "The URL of what was created", "schema": {"type": "string", "format": "uri"}}}
FILE_TAGS = ("session files",)

TABLE = RouteTable(
    [
        Operation(
            hdrs.METH_POST,
            "/sessions",
            views.create_session,
            "Create a session",
            {201: Reply("Created", Session, headers=LOCATED)},
            TAGS,
            name="sessions",
            body=CreateSession,
            errors=(415, 507),
        ),
        Operation(
            hdrs.METH_GET,
            "/sessions",
            views.list_sessions,
            "List sessions, newest first",
            {200: Reply("Sessions", list[Session])},
            TAGS,
            name="sessions",
            query=SessionsQuery,
        ),
        Operation(
            hdrs.METH_GET,
            "/sessions/{id}",
            views.get_session,
            "Get a session",
            {200: Reply("The session", Session)},
            TAGS,
            name=views.SESSION_ROUTE,
        ),
        Operation(
            hdrs.METH_DELETE,
            "/sessions/{id}",
            views.delete_session,
            "Delete a session and its files",
            {204: Reply("Deleted")},
            TAGS,
            name=views.SESSION_ROUTE,
        ),
        Operation(
            hdrs.METH_GET,
            "/sessions/{id}/files",
            views.list_files,
            "List a session's files",
            {200: Reply("Files", list[FileInfo])},
            FILE_TAGS,
            name="session-files",
        ),
        Operation(
            hdrs.METH_POST,
            "/sessions/{id}/files/upload",
            views.upload_file,
            "Upload a file (streamed; replaces a file of the same name)",
            {201: Reply("Stored", FileInfo, headers=LOCATED)},
            FILE_TAGS,
            name="session-upload",
            upload=True,
            errors=(408, 413, 507),
        ),
        Operation(
            hdrs.METH_GET,
            FILE,
            views.get_file,
            "Download a file or its thumbnail",
            DOWNLOAD,
            FILE_TAGS,
            name=views.FILE_ROUTE,
            query=FileQuery,
            errors=(416,),
        ),
        Operation(
            hdrs.METH_HEAD,
            FILE,
            views.get_file,
            "A file's headers",
            DOWNLOAD,
            FILE_TAGS,
            name=views.FILE_ROUTE,
            query=FileQuery,
            errors=(416,),
        ),
        Operation(
            hdrs.METH_DELETE,
            FILE,
            views.delete_file,
            "Delete a file",
            {204: Reply("Deleted")},
            FILE_TAGS,
            name=views.FILE_ROUTE,
        ),
    ],
    path_params={
        "id": {"type": "string", "format": "uuid"},
        "filename": {"type": "string", "maxLength": 255},
    },
    errors=Errors(
        Error,
        {
            **STATUS_TEXTS,
            400: "Bad input (validation_error or bad_request)",
            401: "Missing or invalid API key, or an expired or tampered signed link",
            404: "Unknown session or file",
            415: "Not an application/json body",
            416: "Range not satisfiable",
        },
        always=(400, 401, 403, 404, 503),
    ),
)
