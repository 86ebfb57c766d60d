"""The error middleware on a tiny app, with each family's domain exceptions:
the status and format its table gives them, a subclass its nearest base's."""

from __future__ import annotations

from aiohttp import web

from gateway.folders.errors import DOMAIN_ERRORS as FOLDER_ERRORS
from gateway.folders.errors import render_error as letta_error
from gateway.folders.exceptions import DuplicateName, FileNotFound, FolderNotFound, InvalidId, NameTaken
from gateway.http.errors import error_middleware
from gateway.sessions.errors import DOMAIN_ERRORS as SESSION_ERRORS
from gateway.sessions.errors import render_error as mix_error
from gateway.sessions.exceptions import InvalidSessionId, SessionNotFound


class Unlisted(Exception):
    pass


def raising(exc: Exception):
    async def handler(request: web.Request) -> web.Response:
        raise exc

    return handler


def app_raising(render, table, errors: dict[str, Exception]) -> web.Application:  # noqa: ANN001
    app = web.Application(middlewares=[error_middleware(render, table)])
    for path, exc in errors.items():
        app.router.add_get(path, raising(exc))
    return app


async def test_folder_exceptions_in_letta_format(aiohttp_client) -> None:  # noqa: ANN001
    class Nearer(FileNotFound):
        pass

    errors: dict[str, Exception] = {
        "/folder": FolderNotFound("Folder 'f' not found"),
        "/file": Nearer("File 'x' not found in folder 'f'"),
        "/taken": NameTaken("A folder named 'a' already exists"),
        "/twice": DuplicateName("INVALID_ARGUMENT: File 'a' already exists in folder 'f'"),
        "/id": InvalidId("Invalid ID 'x'"),
        "/other": Unlisted("secret"),
    }
    client = await aiohttp_client(app_raising(letta_error, FOLDER_ERRORS, errors))
    answers = {}
    for path in errors:
        async with client.get(path) as response:
            answers[path] = (response.status, await response.json(), response.headers.get("x-should-retry"))
    assert answers == {
        "/folder": (404, {"detail": "Folder 'f' not found"}, None),
        "/file": (404, {"detail": "File 'x' not found in folder 'f'"}, None),
        "/taken": (409, {"detail": "A folder named 'a' already exists"}, "false"),
        "/twice": (400, {"detail": "INVALID_ARGUMENT: File 'a' already exists in folder 'f'"}, None),
        "/id": (422, {"detail": "Invalid ID 'x'"}, None),
        # Not a domain error of this family: a fault, its message kept inside.
        "/other": (500, {"detail": "Internal server error"}, None),
    }


async def test_session_exceptions_in_mix_format(aiohttp_client) -> None:  # noqa: ANN001
    errors: dict[str, Exception] = {
        "/gone": SessionNotFound("Session with ID 'x' not found"),
        "/bad": InvalidSessionId("Invalid session ID format: 'x' is not a UUID"),
        # A folder exception means nothing to this family.
        "/foreign": FolderNotFound("Folder 'f' not found"),
    }
    client = await aiohttp_client(app_raising(mix_error, SESSION_ERRORS, errors))
    answers = {}
    for path in errors:
        async with client.get(path) as response:
            answers[path] = (response.status, await response.json())
    assert answers == {
        "/gone": (404, {"error": {"code": 404, "message": "Session with ID 'x' not found", "type": "not_found"}}),
        "/bad": (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "Invalid session ID format: 'x' is not a UUID",
                    "type": "validation_error",
                }
            },
        ),
        "/foreign": (500, {"error": {"code": 500, "message": "Internal server error", "type": "internal_error"}}),
    }
