"""HTTP routers, one module per area.

Convention: each module defines ``router: fastapi.APIRouter`` and may define ``async def startup(app)`` and
``async def shutdown(app)``; ``agent.service.create_app`` includes every router and calls the hooks in its
lifespan. Shared objects live on ``app.state`` (``settings``, ``graph``, ...).
"""
