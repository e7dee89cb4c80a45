"""HTTP routers, one module per area.

Convention: each module defines ``router: fastapi.APIRouter`` and may define ``async def startup(app)`` and
``async def shutdown(app)``; ``agent.service.create_app`` includes every router and calls the hooks in its
lifespan. The lifespan puts shared objects on ``app.state``; routers take them through the typed
dependencies of ``agent.api.deps`` (``service: ChatServiceDep``), never from ``request.app.state``.
"""
