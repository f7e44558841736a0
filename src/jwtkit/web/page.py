"""The page at ``/``: a token debugger and the login flow, live.

Static files shipped in the package (``jwtkit/web/static/``, read with :mod:`importlib.resources`):
one HTML page, plain JavaScript modules and CSS, no CDN and no build step. They are read once, when
the app is built, into a table from URL to bytes: a request can only ever get one of those files
(nothing is looked up on disk per request, so no path can climb out of the directory).

Every answer of the page carries a strict Content-Security-Policy (only this origin's scripts,
styles and connections; no inline script or style; Trusted Types so no string becomes HTML),
``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``. The API's own answers
are left as they were (``/docs`` loads its assets from a CDN and keeps working).

Example::

    app.include_router(page_router())          # create_app(..., ui=True) does this
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException

__all__ = ["ASSET_PREFIX", "CONTENT_SECURITY_POLICY", "STATIC_PACKAGE", "page_router"]

STATIC_PACKAGE = "jwtkit.web"
STATIC_DIRECTORY = "static"
ASSET_PREFIX = "/ui/"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


def _load_assets() -> dict[str, _Asset]:
    """Every file of the static directory, by its name, with its media type and an ETag."""
    assets: dict[str, _Asset] = {}
    for entry in resources.files(STATIC_PACKAGE).joinpath(STATIC_DIRECTORY).iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in _MEDIA_TYPES:
            body = entry.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            assets[entry.name] = _Asset(body, _MEDIA_TYPES[suffix], etag)
    if "index.html" not in assets:
        raise RuntimeError(f"the page's files are missing from the package ({STATIC_PACKAGE}/{STATIC_DIRECTORY})")
    return assets


def _answer(request: Request, asset: _Asset) -> Response:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def page_router() -> APIRouter:
    """The routes of the page: ``GET /`` (the HTML) and ``GET /ui/<name>`` (its scripts, styles, icon).

    Raises:
        RuntimeError: the package was installed without its static files.
    """
    assets = _load_assets()
    router = APIRouter(include_in_schema=False)

    @router.api_route("/", methods=["GET", "HEAD"])
    async def index(request: Request) -> Response:
        return _answer(request, assets["index.html"])

    @router.api_route(ASSET_PREFIX + "{name}", methods=["GET", "HEAD"])
    async def asset(name: str, request: Request) -> Response:
        found = assets.get(name)
        if found is None or name == "index.html":
            raise HTTPException(404)  # the error table answers it in JSON
        return _answer(request, found)

    return router
