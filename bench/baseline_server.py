"""The minimal aiohttp baseline the gateway is measured against: one handler
streams a multipart upload to disk, one serves the file with FileResponse.

``/upload?fsync=1`` also fsyncs before answering, as the gateway does, to
separate the cost of durability (the disk's) from the gateway's own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aiohttp import web

CHUNK = 256 * 1024


def create_app(folder: Path) -> web.Application:
    async def upload(request: web.Request) -> web.Response:
        reader = await request.multipart()
        part = await reader.next()
        size = 0
        with open(folder / Path(part.filename).name, "wb") as file:
            while chunk := await part.read_chunk(CHUNK):
                file.write(chunk)
                size += len(chunk)
            if request.query.get("fsync") == "1":
                file.flush()
                os.fsync(file.fileno())
        return web.json_response({"size": size}, status=201)

    async def download(request: web.Request) -> web.FileResponse:
        return web.FileResponse(folder / Path(request.match_info["name"]).name)

    app = web.Application()
    app.router.add_post("/upload", upload)
    app.router.add_get("/download/{name}", download)
    app.router.add_get("/health", lambda request: web.Response(text="ok"))
    return app


if __name__ == "__main__":
    web.run_app(create_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), print=None)
