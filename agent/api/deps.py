"""Typed dependencies for the routers: the one place that knows what the lifespan puts on ``app.state``.

Routers declare what they need (``service: ChatServiceDep``) instead of reading ``request.app.state``, so a
router can be read, and tested with ``app.dependency_overrides``, without knowing how the service is wired.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from agent.chat import ChatService
from core.errors import ApiError
from core.settings import Settings
from sandbox.manager import SmokeRunManager
from tools.fixrun.service import FixRunManager
from tools.workers import WorkerPool


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_chat_service(request: Request) -> ChatService:
    """The chat service whose threads are checkpointed."""
    service: ChatService = request.app.state.chat
    return service


def get_stateless_chat(request: Request) -> ChatService:
    """The chat service for OpenAI-protocol clients that re-send the whole history (nothing is stored)."""
    service: ChatService = request.app.state.stateless_chat
    return service


def get_review_pool(request: Request) -> WorkerPool | None:
    """The review worker pool (None in an app built without one: reviews then run in-process)."""
    pool: WorkerPool | None = getattr(request.app.state, "review_pool", None)
    return pool


def get_storage(request: Request) -> Any | None:
    """The thread storage (None until the lifespan has opened it)."""
    return getattr(request.app.state, "storage", None)


def get_llm_mode(request: Request) -> dict[str, str] | None:
    """The real model's mode and why it was chosen (agent/llm/mode.py); None with the offline planner."""
    mode: dict[str, str] | None = getattr(request.app.state, "llm_mode", None)
    return mode


def get_smoke_manager(request: Request) -> SmokeRunManager:
    """The app's smoke-run manager, or 503 while it is not running."""
    manager: SmokeRunManager | None = getattr(request.app.state, "smoke_manager", None)
    if manager is None:
        raise ApiError(503, "smoke_runs_unavailable", "the smoke-run service is not running")
    return manager


async def get_fix_manager(request: Request) -> FixRunManager:
    """The app's fix-run manager, made on first use over the smoke-run manager (503 while that is not running).

    Async so that it runs on the event loop, which the manager's worker threads submit smoke runs to.
    """
    import asyncio

    smoke = get_smoke_manager(request)
    manager: FixRunManager | None = getattr(request.app.state, "fix_manager", None)
    if manager is None or manager.smoke is not smoke:
        manager = FixRunManager(smoke, asyncio.get_running_loop())
        request.app.state.fix_manager = manager
    return manager


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ChatServiceDep = Annotated[ChatService, Depends(get_chat_service)]
StatelessChatDep = Annotated[ChatService, Depends(get_stateless_chat)]
LLMModeDep = Annotated[dict[str, str] | None, Depends(get_llm_mode)]
ReviewPoolDep = Annotated[WorkerPool | None, Depends(get_review_pool)]
StorageDep = Annotated[Any | None, Depends(get_storage)]
SmokeManagerDep = Annotated[SmokeRunManager, Depends(get_smoke_manager)]
FixRunManagerDep = Annotated[FixRunManager, Depends(get_fix_manager)]
