"""``GET /metrics``: the Prometheus text format (agent/metrics.py says what is counted).

Behind MLAGENT_API_KEY like the API (the numbers describe its use): give Prometheus the key with
``authorization: {credentials: <key>}`` in the scrape config. Not in the OpenAPI document: it is for scrapers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from agent.metrics import REGISTRY, SmokeRunCollector

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Every metric of this process, plus the smoke-run queue and records of this app's manager."""
    body = generate_latest(REGISTRY)
    manager = getattr(request.app.state, "smoke_manager", None)
    if manager is not None:
        smoke = CollectorRegistry(auto_describe=False)
        smoke.register(SmokeRunCollector(manager))
        body += generate_latest(smoke)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
