"""Every route of the gateway's app, with its placeholders filled in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from aiohttp import web

VALUES = {
    "id": str(uuid.uuid4()),
    "filename": "a.txt",
    "folder_id": f"source-{uuid.uuid4()}",
    "file_id": f"file-{uuid.uuid4()}",
    "source_id": f"source-{uuid.uuid4()}",
    "folder_name": "some-folder",
    "asset": "start.js",
}


def routes(app: web.Application) -> Iterator[tuple[str, str]]:
    """(path, method) of every route of the app and its sub-apps."""
    for resource in app.router.resources():
        sub_app = getattr(resource, "_app", None)
        if sub_app is not None:
            yield from routes(sub_app)
            continue
        path = re.sub(
            r"\{(\w+)(:[^}]*)?\}", lambda m: VALUES.get(m[1], "file-" + str(uuid.uuid4())), resource.canonical
        )
        for route in resource:
            yield path, route.method
