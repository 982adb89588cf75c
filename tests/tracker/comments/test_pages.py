"""Issue 15 on the task page: the thread section, the 批示 highlight, the kind offered only to
those allowed, refusals shown in Chinese, 关注/取消关注, and a constant page cost."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import TaskFactory, UserFactory
from tracker.models import CommentKind, Role, TaskComment, TaskStatus, TaskWatcher
from tracker.services.comments import comment_post

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def task(town, county):
    return TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)


def _page(client, task) -> str:
    response = client.get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _thread(html: str) -> str:
    return html[html.index('id="thread"'):]


def test_the_thread_shows_comments_and_highlights_instructions(task, bob, sam):
    comment_post(task=task, author=bob, body="材料已上报 @sam")
    comment_post(task=task, author=sam, body="务必按期完成", kind=CommentKind.INSTRUCTION)
    thread = _thread(_page(client_of(bob), task))
    items = re.findall(r'<li class="comment( comment-instruction)?"[^>]*data-kind="(\w+)"',
                       thread)
    assert items == [("", "comment"), (" comment-instruction", "instruction")]
    assert "材料已上报 @sam" in thread
    assert "提及：" in thread
    assert thread.count('class="instruction-label">领导批示') == 1


def test_the_kind_is_offered_only_to_those_who_may_instruct(task, bob, sam):
    assert 'type="hidden" name="comment-kind"' in _thread(_page(client_of(bob), task))
    assert '<select name="comment-kind"' in _thread(_page(client_of(sam), task))


def test_posting_redirects_to_the_thread(task, bob):
    response = client_of(bob).post(f"/tasks/{task.pk}/comments/",
                                   {"comment-body": "请各位协助"})
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.pk}/#thread"
    assert TaskComment.objects.get().body == "请各位协助"


def test_an_out_of_scope_mention_is_refused_on_the_page_with_the_text_kept(task, bob, alice):
    response = client_of(bob).post(f"/tasks/{task.pk}/comments/",
                                   {"comment-body": "@alice 请看一下"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "无权查看此任务，不能在评论中提及" in html
    assert "@alice 请看一下</textarea>" in html  # what was typed is not lost
    assert not TaskComment.objects.exists()


def test_an_officer_forging_an_instruction_is_refused(task, bob):
    response = client_of(bob).post(f"/tasks/{task.pk}/comments/",
                                   {"comment-kind": "instruction", "comment-body": "批示"})
    assert response.status_code == 403
    assert "只有负责督导该任务的督导人员可以作出领导批示" in response.content.decode()
    assert not TaskComment.objects.exists()


def test_watch_and_unwatch_buttons(task, bob):
    client = client_of(bob)
    assert 'id="watch-form"' in _page(client, task)
    client.post(f"/tasks/{task.pk}/watch/")
    assert TaskWatcher.objects.filter(task=task, user=bob).exists()
    html = _page(client, task)
    assert 'id="unwatch-form"' in html
    assert 'id="watch-form"' not in html
    client.post(f"/tasks/{task.pk}/unwatch/")
    assert not TaskWatcher.objects.exists()


def test_the_pages_refuse_a_task_out_of_sight_with_404(task, alice):
    client = client_of(alice)
    assert client.post(f"/tasks/{task.pk}/comments/", {"comment-body": "看"}).status_code == 404
    assert client.post(f"/tasks/{task.pk}/watch/").status_code == 404
    assert not TaskWatcher.objects.exists()


def test_the_task_page_costs_the_same_with_2_and_30_comments(task, town, sam):
    officers = [UserFactory(unit=town, role=Role.OFFICER) for _ in range(2)]
    client = client_of(sam)

    def post(n):
        for i in range(n):
            comment_post(task=task, author=officers[i % 2], body=f"第{i}条 @湖滨街道")

    post(2)
    _page(client, task)  # warm per-process caches (calendar, session)
    with CaptureQueriesContext(connection) as few:
        _page(client, task)
    post(28)
    with CaptureQueriesContext(connection) as many:
        html = _page(client, task)
    assert html.count('class="comment"') == 30
    assert len(few) == len(many)
