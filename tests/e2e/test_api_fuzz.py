"""Property-based fuzzing of the real server against its own OpenAPI document (schemathesis).

Every operation gets schema-valid and schema-violating requests; the contract says bad input gets a 4xx with
``{"error": {"code", "message", "details"}}`` and never a 5xx, and every answer must match the status codes,
media types and body schemas the document declares. ``POST /v1/smoke-runs`` and ``POST /v1/fix-runs`` are left
out: a valid body starts a real sandboxed training run (its bad-input handling is probed by hand in test_nasty_inputs.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import RunningServer, check_no_rule_crash, start_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]


def error_body_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx carries the contract's error body: an object ``error`` with code, message and details."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {response.text[:300]}"
    error = body["error"]
    assert isinstance(error, dict) and {"code", "message", "details"} <= set(error), response.text[:300]
    assert isinstance(error["code"], str) and error["code"], response.text[:300]
    assert isinstance(error["message"], str) and error["message"].strip(), response.text[:300]
    return True


def _document() -> dict[str, Any]:
    """The app's OpenAPI document, built in-process at collection time (the test below checks that the
    running server serves the same one). schemathesis' lazy ``from_fixture`` loader does not work with
    pytest 9 (it sets ``node._nodeid``), so the schema is loaded eagerly and each call names the server."""
    from agent.service import create_app
    from core.settings import Settings

    return create_app(Settings()).openapi()


DOCUMENT = _document()
schema = (
    # A valid body starts real training; smoke-run submission has its own tests (tests/smoke, test_nasty_inputs),
    # and so does fix-run submission (tests/fixrun: a valid body starts a repair loop of real runs).
    schemathesis.openapi.from_dict(DOCUMENT)
    .exclude(method="POST", path="/v1/smoke-runs")
    .exclude(method="POST", path="/v1/fix-runs")
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("fuzz") / "data")
    yield running
    running.stop()
    unhandled = [line for line in running.log().splitlines() if "unhandled error" in line]
    assert not unhandled, f"the server logged an unhandled error while fuzzed: {unhandled[0][:3000]}"
    check_no_rule_crash([running])


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_api_conforms_to_its_schema_and_errors_have_the_contract_shape(
    case: Any, fuzz_server: RunningServer
) -> None:
    if (
        case.operation.path == "/v1/generate"
        and isinstance(case.body, dict)
        and case.body.get("review", True) is True
    ):
        # Now that the document says exactly which specs are valid, most generated ones are, and reviewing each
        # generated project costs ~1 s (the review itself is fuzzed through /v1/review): render them unreviewed.
        case.body["review"] = False
    case.call_and_validate(
        base_url=fuzz_server.url, checks=CHECKS, additional_checks=[error_body_shape], timeout=60
    )


def test_the_server_serves_the_fuzzed_document(fuzz_server: RunningServer) -> None:
    import httpx

    assert httpx.get(f"{fuzz_server.url}/openapi.json", timeout=10).json() == DOCUMENT


def test_openapi_documents_the_error_shape() -> None:
    """The document declares the real error body (not FastAPI's ``{"detail": [...]}``) for the 4xx answers."""
    document = DOCUMENT
    assert "HTTPValidationError" not in document["components"]["schemas"]
    review = document["paths"]["/v1/review"]["post"]["responses"]
    for status in ("400", "413", "422"):
        assert review[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert "404" in document["paths"]["/v1/threads/{thread_id}"]["get"]["responses"]
    assert "404" not in document["paths"]["/v1/review"]["post"]["responses"]
    assert set(document["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_405_lists_every_method_of_the_path(fuzz_server: RunningServer) -> None:
    """GET and DELETE of a thread are separate routes; a 405 must still name both (RFC 9110 ``Allow``)."""
    import httpx

    response = httpx.put(f"{fuzz_server.url}/v1/threads/abc", json={}, timeout=10)
    assert response.status_code == 405
    assert {"GET", "DELETE"} <= {method.strip() for method in response.headers["allow"].split(",")}
    assert response.json()["error"]["code"] == "method_not_allowed"
