"""The webhook admin: administrators only; endpoints written through the services with the
secret shown once; deliveries listed with a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.tracker.factories import TaskEventFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from tracker.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

ENDPOINTS = reverse("admin:tracker_webhookendpoint_changelist")
DELIVERIES = reverse("admin:tracker_webhookdelivery_changelist")
ADD = reverse("admin:tracker_webhookendpoint_add")


def _form(**overrides) -> dict:
    return {"name": "协同办公系统", "url": "https://oa.example.internal/hooks/tracker",
            "on_created": "on", "on_changed": "on", "on_closed": "on", "active": "on",
            **overrides}


def test_supervisors_and_officers_never_reach_the_webhook_admin(client, sam, chief, alice):
    WebhookEndpointFactory()
    for user in (sam, chief):
        client.force_login(user)
        for page in (ENDPOINTS, DELIVERIES, ADD):
            assert client.get(page).status_code == 403, (user.username, page)
    client.force_login(alice)
    assert client.get(ENDPOINTS).status_code == 302  # officers are sent to the login page


def test_an_administrator_adds_an_endpoint_and_sees_its_secret_once(client, root_admin):
    client.force_login(root_admin)
    response = client.post(ADD, _form(), follow=True)
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.created_by == root_admin
    assert len(endpoint.secret) == 64
    assert (endpoint.on_created, endpoint.on_closed, endpoint.on_reopened) == (True, True, False)
    assert endpoint.secret in response.content.decode()  # the message right after saving
    change = reverse("admin:tracker_webhookendpoint_change", args=[endpoint.pk])
    page = client.get(change).content.decode()
    assert endpoint.secret not in page
    assert "已设置（不再显示" in page
    assert endpoint.secret not in client.get(ENDPOINTS).content.decode()


@pytest.mark.parametrize(("url", "message"), [
    ("https://user:pw@oa.example.internal/hook", "接收地址中不得包含用户名或密码"),
    ("ftp://oa.example.internal/hook", "接收地址必须以 http:// 或 https:// 开头"),
    ("http://oa.example.internal/hook#x", "接收地址不得包含“#”片段"),
])
def test_a_bad_url_is_refused_on_the_form(client, root_admin, url, message):
    client.force_login(root_admin)
    response = client.post(ADD, _form(url=url))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotating_the_secret_shows_the_new_one_once(client, root_admin):
    endpoint = WebhookEndpointFactory()
    old = endpoint.secret
    client.force_login(root_admin)
    response = client.post(ENDPOINTS, {"action": "rotate_secret_selected",
                                       "_selected_action": [endpoint.pk]}, follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in response.content.decode()


def _listing_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(DELIVERIES).status_code == 200
    return len(queries)


def test_the_delivery_list_takes_the_same_queries_for_3_and_30_rows(client, root_admin):
    client.force_login(root_admin)
    for _ in range(3):
        WebhookDeliveryFactory(task_event=TaskEventFactory())
    few = _listing_queries(client)
    endpoint = WebhookEndpointFactory()
    for _ in range(27):
        WebhookDeliveryFactory(endpoint=endpoint, task_event=TaskEventFactory())
    assert _listing_queries(client) == few
