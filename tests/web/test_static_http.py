"""The docs and the web page over plain HTTP: only local URLs, every asset served, open with an API key set.

These routes need nothing from the lifespan (no storage, no workers), so the app is driven in-process without
starting it; the browser tests (test_browser.py) check the same pages rendered in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.service import create_app
from core.settings import Settings

KEY = "static-test-key"
URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("static") / "data", api_key=KEY)
    yield TestClient(create_app(settings))  # no ``with``: the lifespan (storage, workers) is not needed


def _urls(html: str) -> list[str]:
    return [a or b for a, b in URL_ATTRIBUTE.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/"])
def test_pages_reference_only_local_urls_that_are_served_without_a_key(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = [url for url in _urls(response.text) if not url.startswith(("data:", "#"))]
    assert urls, "the page must load its assets"
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from elsewhere"
        if url.startswith("/static/"):
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "cdn" not in response.text.lower().replace("cdn.redoc.ly", "")


def test_docs_pages_forbid_other_origins(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        policy = client.get(page).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "img-src 'self' data:" in policy


def test_assets_have_their_media_types_and_unknown_names_are_404(client: TestClient) -> None:
    assert (
        client.get("/static/docs/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    )
    assert client.get("/static/docs/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/web/app.js").headers["content-type"].startswith("text/javascript")
    for missing in ("/static/web/nope.js", "/static/docs/..%2F..%2Fservice.py", "/static/web/index.html"):
        response = client.get(missing)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", missing


def test_the_api_still_needs_the_key_and_the_description_does_not(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/v1/experiments").status_code == 401
    assert client.get("/v1/threads/abc").status_code == 401
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/docs", "/redoc"} & set(paths), "page routes are not API operations"


def test_every_static_file_is_shipped_as_package_data() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"web/static/*"' in pyproject
