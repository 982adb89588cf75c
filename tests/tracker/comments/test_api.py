"""Issue 15 through the API: /api/v1/tasks/<id>/comments/ and /watch/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import TaskFactory, UserFactory
from tracker.models import (
    CommentKind,
    EventNotice,
    EventType,
    Role,
    TaskComment,
    TaskStatus,
    TaskWatcher,
)
from tracker.services.comments import comment_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(town, county):
    return TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)


def _url(task, what="comments"):
    return f"/api/v1/tasks/{task.pk}/{what}/"


def test_post_a_comment_with_a_mention_and_read_it_back(client_for, task, sam, bob, town):
    response = client_for(sam).post(_url(task), {"body": "@bob 请会同@湖滨街道 落实"},
                                    format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["kind_display"], body["author"]) == (
        "comment", "评论", sam.pk)
    assert body["mentions"] == [
        {"type": "user", "id": bob.pk, "name": bob.display_name},
        {"type": "unit", "id": town.pk, "name": "湖滨街道"},
    ]
    listed = client_for(bob).get(_url(task)).json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert EventNotice.objects.filter(recipient_user=bob, event=EventType.MENTIONED).count() == 1


def test_an_officers_instruction_is_refused_in_chinese_and_writes_nothing(client_for, task, bob):
    response = client_for(bob).post(_url(task), {"body": "批示", "kind": "instruction"},
                                    format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "督导人员" in response.json()["detail"]
    assert not TaskComment.objects.exists()


def test_a_supervisors_instruction_is_accepted(client_for, task, sam):
    response = client_for(sam).post(_url(task), {"body": "务必按期完成", "kind": "instruction"},
                                    format="json")
    assert response.status_code == 201
    assert response.json()["kind_display"] == "领导批示"


@pytest.mark.parametrize(("payload", "field"), [
    ({"body": ""}, "body"),
    ({"kind": "comment"}, "body"),
    ({"body": "好", "kind": "praise"}, "kind"),
    ({"body": "好", "status": "completed"}, "status"),
])
def test_bad_input_is_a_400_naming_the_field(client_for, task, sam, payload, field):
    response = client_for(sam).post(_url(task), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not TaskComment.objects.exists()


def test_an_out_of_scope_mention_is_a_400_naming_the_person(client_for, task, sam, alice):
    response = client_for(sam).post(_url(task), {"body": "@alice 请看"}, format="json")
    assert response.status_code == 400
    assert "无权查看此任务" in response.json()["detail"]
    assert not EventNotice.objects.exists()


def test_a_task_out_of_sight_is_404_for_comments_and_watch(client_for, task, alice):
    client = client_for(alice)
    assert client.get(_url(task)).status_code == 404
    assert client.post(_url(task), {"body": "看看"}, format="json").status_code == 404
    assert client.put(_url(task, "watch")).status_code == 404
    assert not TaskWatcher.objects.exists()


def test_watch_put_get_delete(client_for, task, bob):
    client = client_for(bob)
    assert client.get(_url(task, "watch")).json() == {"watching": False}
    assert client.put(_url(task, "watch")).json() == {"watching": True}
    assert client.put(_url(task, "watch")).json() == {"watching": True}
    assert TaskWatcher.objects.filter(task=task, user=bob).count() == 1
    assert client.get(_url(task, "watch")).json() == {"watching": True}
    assert client.delete(_url(task, "watch")).json() == {"watching": False}
    assert not TaskWatcher.objects.exists()


def _make_comments(task, n, town, sam):
    officers = [UserFactory(unit=town, role=Role.OFFICER) for _ in range(2)]
    for i in range(n):
        who = officers[i % 2]
        comment_post(task=task, author=sam if i % 3 == 0 else who,
                     kind=CommentKind.INSTRUCTION if i % 3 == 0 else CommentKind.COMMENT,
                     body=f"第{i}条 @{who.username} @湖滨街道")


def _list_queries(client, task) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(task) + "?page_size=100")
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_list_issues_the_same_queries_for_3_and_40_comments(client_for, task, sam, town):
    """Expected: (1) the task in the reader's scope; (2) the page of comments joined with
    author and unit; (3) their mentions with user and unit, prefetched in one IN query."""
    client = client_for(sam)
    _make_comments(task, 3, town, sam)
    few, body = _list_queries(client, task)
    assert len(body["results"]) == 3
    _make_comments(task, 37, town, sam)
    many, body = _list_queries(client, task)
    assert len(body["results"]) == 40
    assert few == many == 3
    assert all(len(c["mentions"]) == 2 for c in body["results"])
    assert body["results"][0]["id"] > body["results"][-1]["id"]  # newest first


def test_the_list_is_cursor_paginated(client_for, task, sam, town):
    _make_comments(task, 5, town, sam)
    first = client_for(sam).get(_url(task) + "?page_size=2").json()
    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    second = client_for(sam).get(first["next"]).json()
    assert {c["id"] for c in first["results"]}.isdisjoint({c["id"] for c in second["results"]})


def test_the_schema_documents_the_endpoints(client_for, alice):
    schema = client_for(alice).get("/api/schema/?format=json").json()
    comments = schema["paths"]["/api/v1/tasks/{task_pk}/comments/"]
    assert set(comments) >= {"get", "post"}
    assert "CommentInput" in comments["post"]["requestBody"]["content"]["application/json"][
        "schema"]["$ref"]
    watch = schema["paths"]["/api/v1/tasks/{task_pk}/watch/"]
    assert set(watch) >= {"get", "put", "delete"}
    assert "WatchState" in schema["components"]["schemas"]
