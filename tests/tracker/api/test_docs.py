"""Acceptance: schema at /api/schema/, docs at /api/docs/ and /api/redoc/,
every asset served by the project itself."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_schema_is_openapi_3(client_for, alice):
    response = client_for(alice).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/tasks/{id}/close/" in schema["paths"]
    assert "Error" in schema["components"]["schemas"]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_load_only_local_assets(client_for, alice, url):
    response = client_for(alice).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert assets, "the page should load its scripts"
    for asset in assets:
        if asset.startswith(f"{url}?"):  # Swagger UI's start-up script, not inline (CSP)
            assert client_for(alice).get(asset).status_code == 200
            continue
        assert asset.startswith("/static/"), f"outside request: {asset}"
        found = finders.find(asset.removeprefix("/static/"))
        assert found, f"missing local asset: {asset}"
        assert Path(found).is_file()
    assert "cdn" not in html.lower()
    assert "http://" not in html
    assert "https://" not in html
