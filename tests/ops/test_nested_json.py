"""A JSON body nested ten thousand levels deep is a 400 with a Chinese reason on every
endpoint that reads JSON (the anonymous token endpoint included), never a 500."""

import json

import pytest
from rest_framework.test import APIClient

from config.api.parsers import MAX_JSON_DEPTH, json_depth_exceeds

pytestmark = pytest.mark.django_db
DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/auth/login/"])
def test_anonymous_endpoints_refuse_a_deep_body(url):
    response = APIClient().post(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套层级过深" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/v1/tasks/", "/api/v1/reports/", "/api/v1/inspections/"])
def test_signed_in_endpoints_refuse_a_deep_body(client_for, chief, url):
    response = client_for(chief).post(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "嵌套层级过深" in response.json()["detail"]


def test_ordinary_bodies_and_brackets_inside_strings_still_parse(client_for, alice):
    text = json.dumps({"username": "alice", "password": "[[[[{{{{" * 3}).encode()
    assert not json_depth_exceeds(text, MAX_JSON_DEPTH)
    response = APIClient().post("/api/v1/auth/token/", text, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"  # parsed, then refused on merit


def test_depth_is_counted_outside_strings_only():
    assert json_depth_exceeds(b"[" * 33 + b"]" * 33, 32)
    assert not json_depth_exceeds(b"[" * 32 + b"]" * 32, 32)
    assert not json_depth_exceeds(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 32)
