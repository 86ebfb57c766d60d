"""``GET /docs``: Swagger UI over ``/openapi.json``, served by the gateway
itself from the files of the ``swagger-ui-bundle-v2`` package (Swagger UI 5,
which reads OpenAPI 3.1; ``swagger-ui-bundle``'s 4.x cannot), so the page
needs no CDN and works on a closed network.

Like ``/openapi.json`` it needs no API key: it holds no data. Its "Try it
out" asks for a key (Authorize) where the APIs need one. The page runs no
inline script, so its ``Content-Security-Policy`` allows scripts of this
origin only.
"""

from __future__ import annotations

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

#: The page; relative links, so that it works under any mount point.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>File gateway API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/start.js"></script>
</body>
</html>
"""
START = """window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true});\n"""
#: The files the page loads and their types: the bundle's, served as they
#: are, and ``start.js``.
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "start.js": "text/javascript",
}
HEADERS = {
    # Swagger UI sets inline styles and draws its icons from data: URLs.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html", headers=HEADERS)


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["asset"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    if name == "start.js":
        return web.Response(text=START, content_type=ASSETS[name], headers=HEADERS)
    # FileResponse: ETag and Last-Modified, so a second visit revalidates.
    return web.FileResponse(swagger_ui_path / name, headers={**HEADERS, "Content-Type": ASSETS[name]})
