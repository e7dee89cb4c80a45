"""Liveness and readiness probes (never behind auth)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from agent import __version__
from agent.api.deps import LLMModeDep, SettingsDep, StorageDep
from core.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok", "version": __version__}


async def _database_check(storage: Any | None) -> dict[str, Any]:
    if storage is None:
        return {"ok": False, "reason": "the thread database is not open"}
    try:
        await storage.ping()
    except Exception as error:
        return {"ok": False, "kind": storage.kind, "reason": f"thread database error: {error}"}
    return {"ok": True, "kind": storage.kind}


def _sandbox_check(settings: Settings) -> dict[str, Any]:
    try:
        from sandbox.local import LocalSandbox
    except ImportError as error:
        return {"ok": False, "reason": f"sandbox backend missing: {error}"}
    check = LocalSandbox(settings).check()
    return {"ok": check.usable, "reason": check.reason, "isolation": check.isolation}


class Readiness(BaseModel):
    """The readiness report (the same body with 200 and 503)."""

    status: str
    llm: str
    llm_mode: dict[str, str] | None = None
    checks: dict[str, dict[str, Any]]


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": Readiness, "description": "Ready"},
        503: {"model": Readiness, "description": "Not ready; the failing checks say why"},
    },
)
async def readyz(settings: SettingsDep, storage: StorageDep, llm_mode: LLMModeDep) -> JSONResponse:
    """Ready when the thread database answers and smoke runs can be isolated (503 with the reasons if not)."""
    checks = {"database": await _database_check(storage), "sandbox": _sandbox_check(settings)}
    ready = all(check["ok"] for check in checks.values())
    body = {
        "status": "ready" if ready else "not_ready",
        "llm": settings.llm,
        "llm_mode": llm_mode,  # {"mode": "tools"|"compose", "reason": ...}; null with the offline planner
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if ready else 503)
