"""``/docs``: Swagger UI served from the package, so the API docs work without internet access.

FastAPI's own ``/docs`` loads Swagger UI from a CDN: on an offline or locked-down network the page
stays blank (``SwaggerUIBundle is not defined``). Here the page, its stylesheet, its script and its
icon all come from this server: the assets from the ``swagger-ui-bundle-v2`` wheel (Swagger UI
5, Apache-2.0, its licence in the wheel's metadata), the page and its initializer from this module,
with no inline script so that the page's Content-Security-Policy (:mod:`.headers`) can allow
``'self'`` only. Swagger's online validator badge is turned off (``validatorUrl: null``): it would
send the schema elsewhere.
"""

from __future__ import annotations

import functools
import importlib
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from .errors import error_response

__all__ = ["ASSETS", "router"]

router = APIRouter(include_in_schema=False)

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The files of the Swagger UI bundle the page loads, by name, with their media types."""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jwtkit auth server: API docs</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
"""

_CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/docs")
async def docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)


@router.get("/docs/init.js")
async def init_script() -> Response:
    return Response(_INIT, media_type="text/javascript; charset=utf-8", headers=_CACHE)


@router.get("/docs/{name}")
async def asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        return error_response(404, "not_found", "Not Found")
    return Response(_read(name), media_type=media_type, headers=_CACHE)


@functools.cache
def _read(name: str) -> bytes:
    return _bundle().joinpath(name).read_bytes()


def _bundle() -> Traversable:
    # imported by name: the wheel has no type information
    path: Traversable = importlib.import_module("swagger_ui_bundle").swagger_ui_path
    return path
