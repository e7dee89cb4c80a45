"""The web page at ``/``: chat, review, smoke runs and experiments, over this service's own API.

Plain files in ``agent/web/static`` (no build step, nothing loaded from a CDN), served under ``/static/web/``.
The page and its assets are open when MLAGENT_API_KEY is set (they hold no data); the page asks for the key
and sends it as a Bearer token with every API call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from core.errors import ApiError

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
ASSET_PREFIX = "/static/web"
# A fixed list read once: a request can name only these files (no path is ever joined from the URL).
ASSETS: dict[str, Path] = {path.name: path for path in STATIC_DIR.iterdir() if path.is_file()}
OPEN_PATHS = {"/"}
OPEN_PREFIXES = ("/static/",)
# The page is small and changes with the package: revalidate each time (the ETag makes that cheap).
_NO_STALE = {"Cache-Control": "no-cache"}


@router.get("/")
async def index() -> FileResponse:
    """The web page."""
    return FileResponse(ASSETS["index.html"], headers=_NO_STALE)


@router.get(ASSET_PREFIX + "/{name}")
async def web_asset(name: str) -> FileResponse:
    """One of the page's scripts or style sheets."""
    path = ASSETS.get(name)
    if path is None or name == "index.html":
        raise ApiError(404, "not_found", f"no web asset named {name!r}")
    return FileResponse(path, headers=_NO_STALE)
