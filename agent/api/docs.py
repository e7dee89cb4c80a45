"""``/docs`` (Swagger UI) and ``/redoc`` served with their assets from this process, so they load offline.

FastAPI's default pages fetch Swagger UI and ReDoc from a CDN, which leaves a blank page on a machine without
internet. The assets come from the ``fastapi-offline`` package (maintained, vendors the released files); the
pages are FastAPI's own ``get_swagger_ui_html``/``get_redoc_html`` pointed at ``/static/docs/``. These paths
and ``/openapi.json`` are open when MLAGENT_API_KEY is set: they describe the API and hold no data.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from core.errors import ApiError

router = APIRouter(include_in_schema=False)

ASSET_PREFIX = "/static/docs"
_ASSET_DIR = Path(fastapi_offline.__file__).parent / "static"
# A fixed list read once: a request can name only these files (no path is ever joined from the URL).
ASSETS: dict[str, Path] = {path.name: path for path in _ASSET_DIR.iterdir() if path.is_file()}
OPEN_PATHS = {"/docs", "/redoc"}
# Nothing may load from elsewhere: ReDoc's footer links a logo on cdn.redoc.ly, which this policy blocks
# (the link stays; the browser sends no request off the machine).
_LOCAL_ONLY = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:"
}


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, with local assets."""
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSET_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSET_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
    )
    page.headers.update(_LOCAL_ONLY)
    return page


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc for the OpenAPI document, with local assets and no web fonts."""
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSET_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
        with_google_fonts=False,
    )
    page.headers.update(_LOCAL_ONLY)
    return page


@router.get(ASSET_PREFIX + "/{name}")
async def docs_asset(name: str) -> FileResponse:
    """One of the vendored Swagger UI / ReDoc files."""
    path = ASSETS.get(name)
    if path is None:
        raise ApiError(404, "not_found", f"no documentation asset named {name!r}")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
