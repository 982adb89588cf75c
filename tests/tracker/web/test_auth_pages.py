"""Officers: log in, log out, change password — in Chinese, on our own pages."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_our_login_page():
    response = Client().get("/tasks/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/tasks/")


def test_officer_logs_in_and_lands_on_my_tasks(alice):
    client = Client()
    page = client.get("/login/")
    assert "巡视整改跟踪系统" in page.content.decode()
    response = client.post("/login/", {"username": "alice", "password": "demo-pass-123"})
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == reverse("web:task_list")
    assert "我的任务" in client.get("/tasks/").content.decode()


def test_wrong_password_is_refused_in_chinese(alice):
    response = Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(alice_client):
    assert alice_client.get("/logout/").status_code == 405  # no log-out by a stray link
    response = alice_client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert alice_client.get("/tasks/").status_code == 302


def test_password_change_takes_the_new_password(alice, alice_client):
    page = alice_client.get("/password/")
    assert "修改密码" in page.content.decode()
    response = alice_client.post("/password/", {
        "old_password": "demo-pass-123",
        "new_password1": "Zhenggai-2026!",
        "new_password2": "Zhenggai-2026!",
    })
    assert response["Location"] == reverse("web:password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("Zhenggai-2026!")


def test_password_change_refuses_a_wrong_old_password_in_chinese(alice_client):
    response = alice_client.post("/password/", {
        "old_password": "nope", "new_password1": "Zhenggai-2026!",
        "new_password2": "Zhenggai-2026!",
    })
    assert response.status_code == 200
    assert "旧密码" in response.content.decode()


def test_supervisor_lands_on_the_supervision_pages(chief_client):
    response = chief_client.get("/")
    assert response.status_code == 302
    assert response["Location"] in ("/dashboard/", reverse("web:review"))
