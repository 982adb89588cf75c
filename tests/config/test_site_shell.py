"""The site shell at project level: templates folder, home page and error pages of every face."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import get_resolver


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_template_folder_in_the_settings_exists_and_holds_the_base_template():
    """TEMPLATES DIRS used to point at a folder that did not exist; it is config/templates."""
    [folder] = settings.TEMPLATES[0]["DIRS"]
    assert Path(folder).is_dir()
    assert (Path(folder) / "base.html").is_file()


@pytest.mark.django_db
def test_home_sends_officers_to_their_tasks_and_supervisors_to_the_dashboard(alice, chief):
    assert _client(alice).get("/").url == "/tasks/"
    assert _client(chief).get("/").url == "/dashboard/"
    assert Client().get("/").url.startswith("/login/")


@pytest.mark.parametrize(
    ("url", "status", "title"),
    [("/no-such-page/", 404, "页面不存在"), ("/review/", 403, "无权访问")],
)
@pytest.mark.django_db
def test_an_error_is_a_chinese_page_in_the_site_layout(alice, url, status, title):
    """An unknown page, or an officer opening the supervisors' review queue: our own page inside
    the navigation, not Django's English one."""
    response = _client(alice).get(url)
    assert response.status_code == status
    html = response.content.decode()
    assert title in html
    assert "navbar-tracker" in html
    assert "我的任务" in html
    assert "Not Found" not in html
    assert "Forbidden" not in html


@pytest.mark.django_db
def test_an_unknown_api_url_answers_in_the_api_error_shape(alice):
    response = _client(alice).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该记录", "fields": {}}


@pytest.mark.parametrize(
    ("status", "page_text", "api_code"),
    [(400, "请求有误", "bad_request"), (403, "无权访问", "permission_denied"),
     (404, "页面不存在", "not_found"), (500, "服务器内部错误", "server_error")],
)
def test_every_error_handler_is_ours_in_chinese_for_pages_and_in_the_shape_for_the_api(
    status, page_text, api_code
):
    """The handlers wired in config/urls.py: a Chinese page in the layout (500 without a
    stack trace), and the one error shape under /api/."""
    handler = get_resolver().resolve_error_handler(status)
    args = () if status == 500 else (Exception("内部细节"),)
    page = handler(RequestFactory().get("/somewhere/"), *args)
    assert page.status_code == status
    html = page.content.decode()
    assert page_text in html
    assert "巡视整改跟踪系统" in html
    assert "Traceback" not in html
    api = handler(RequestFactory().get("/api/v1/somewhere/"), *args)
    assert api.status_code == status
    assert api["Content-Type"].startswith("application/json")
    assert b'"code": "' + api_code.encode() + b'"' in api.content
