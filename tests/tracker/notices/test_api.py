"""Issue 15, 督办单 in the API: issue, reply, the scoped register with its filters (a constant
number of queries), the .docx, Chinese refusals."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from docx import Document

from tests.tracker.factories import SupervisionNoticeItemFactory, TaskFactory
from tracker.models import SupervisionNotice, TaskAction, TaskEvent, TaskStatus
from tracker.workdays import add_workdays

pytestmark = pytest.mark.django_db
URL = "/api/v1/notices/"


def reply_by() -> str:
    return add_workdays(timezone.localdate(), 3).isoformat()


def issue_body(*tasks, colour="red"):
    return {"tasks": [t.pk for t in tasks], "colour": colour, "reason": "任务已逾期，进度滞后。",
            "requirements": "请说明原因。", "reply_by": reply_by()}


def test_supervisor_issues_on_two_units_tasks_and_each_unit_replies(
    client_for, sam, bob, vera, overdue_task, lagging_task
):
    response = client_for(sam).post(URL, issue_body(overdue_task, lagging_task), format="json")
    assert response.status_code == 201, response.data
    notice = response.json()
    assert notice["number"].startswith("督办〔")
    assert (notice["colour"], notice["state"], notice["parts"]) == ("red", "pending", 2)

    # bob sees and answers only his unit's part.
    mine = client_for(bob).get(f"{URL}{notice['id']}/").json()
    assert [item["task"]["id"] for item in mine["items"]] == [overdue_task.pk]
    answered = client_for(bob).post(f"{URL}{notice['id']}/reply/",
                                    {"task": overdue_task.pk, "reply": "已完成整改"},
                                    format="json")
    assert answered.status_code == 200, answered.data
    assert answered.json()["state"] == "replied"  # of bob's one part
    assert client_for(sam).get(f"{URL}{notice['id']}/").json()["state"] == "partial"

    # bob may not answer vera's part: it is not even in his notice.
    refused = client_for(bob).post(f"{URL}{notice['id']}/reply/",
                                   {"task": lagging_task.pk, "reply": "代答"}, format="json")
    assert refused.status_code == 404
    assert client_for(vera).post(f"{URL}{notice['id']}/reply/",
                                 {"task": lagging_task.pk, "reply": "已启动整改"},
                                 format="json").status_code == 200
    assert client_for(sam).get(f"{URL}{notice['id']}/").json()["state"] == "replied"
    assert TaskEvent.objects.filter(action=TaskAction.NOTICE_REPLY).count() == 2


def test_a_second_reply_is_refused_in_chinese(client_for, sam, bob, overdue_task):
    notice = client_for(sam).post(URL, issue_body(overdue_task), format="json").json()
    body = {"task": overdue_task.pk, "reply": "已整改"}
    assert client_for(bob).post(f"{URL}{notice['id']}/reply/", body,
                                format="json").status_code == 200
    again = client_for(bob).post(f"{URL}{notice['id']}/reply/", body, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "该督办事项已回复，不能重复回复"


def test_issue_refusals_are_chinese_and_write_nothing(client_for, sam, bob, overdue_task,
                                                      bureau_task):
    assert client_for(bob).post(URL, issue_body(overdue_task), format="json").status_code == 403
    out_of_sight = client_for(sam).post(URL, issue_body(bureau_task), format="json")
    assert out_of_sight.status_code == 400
    assert out_of_sight.json()["detail"] == "所选任务不存在或不可见"
    saturday = add_workdays(timezone.localdate(), 3)
    while saturday.weekday() != 5:
        saturday += dt.timedelta(days=1)
    weekend = client_for(sam).post(URL, {**issue_body(overdue_task),
                                         "reply_by": saturday.isoformat()}, format="json")
    assert weekend.status_code == 400
    assert "不是工作日" in weekend.json()["detail"]
    unknown = client_for(sam).post(URL, {**issue_body(overdue_task), "status": "x"},
                                   format="json")
    assert unknown.status_code == 400
    assert not SupervisionNotice.objects.exists()


def test_register_filters_by_state_colour_and_unit(client_for, sam, bob, town, village,
                                                   overdue_task, lagging_task):
    client = client_for(sam)
    red = client.post(URL, issue_body(overdue_task), format="json").json()
    blue = client.post(URL, issue_body(lagging_task, colour="blue"), format="json").json()
    client_for(bob).post(f"{URL}{red['id']}/reply/", {"task": overdue_task.pk, "reply": "已整改"},
                         format="json")

    def ids(query):
        return [n["id"] for n in client.get(f"{URL}?{query}").json()["results"]]

    assert ids("") == [blue["id"], red["id"]]
    assert ids("state=replied") == [red["id"]]
    assert ids("state=pending") == [blue["id"]]
    assert ids("colour=blue") == [blue["id"]]
    assert ids(f"unit={village.pk}") == [blue["id"]]
    bad = client.get(f"{URL}?state=nonsense")
    assert bad.status_code == 400


def _notices(count, sam, units):
    for index in range(count):
        notice_item = SupervisionNoticeItemFactory(
            notice__issued_by=sam,
            task=TaskFactory(lead_unit=units[index % len(units)], status=TaskStatus.IN_PROGRESS),
        )
        SupervisionNoticeItemFactory(
            notice=notice_item.notice,
            task=TaskFactory(lead_unit=units[(index + 1) % len(units)]),
        )


@pytest.mark.parametrize("user_name", ["sam", "bob"])
def test_the_register_costs_the_same_queries_for_3_or_12_notices(
    request, client_for, sam, town, village, user_name
):
    """Queries: the page of notices with their counts and state (one), the visible parts with
    task, unit, replier and notice (one); the user is force-authenticated. The same at any
    size."""
    user = request.getfixturevalue(user_name)
    client = client_for(user)
    counts = []
    for added in (3, 9):
        _notices(added, sam, [town, village])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts == [2, 2]
    results = response.json()["results"]
    assert len(results) == 12
    if user_name == "bob":  # one part of each notice is his township's
        assert {len(n["items"]) for n in results} == {1}


def test_docx_holds_the_number_colour_and_only_the_readers_tasks(
    client_for, sam, bob, overdue_task, lagging_task
):
    notice = client_for(sam).post(URL, issue_body(overdue_task, lagging_task),
                                  format="json").json()
    response = client_for(bob).get(f"{URL}{notice['id']}/docx/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert notice["number"] in text
    assert "红色督办" in text
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert overdue_task.title in cells
    assert lagging_task.title not in cells  # vera's unit's task is not bob's to read
    whole = Document(io.BytesIO(client_for(sam).get(f"{URL}{notice['id']}/docx/").content))
    all_cells = [cell.text for row in whole.tables[0].rows for cell in row.cells]
    assert lagging_task.title in all_cells
    assert "待回复" in all_cells


def test_suggestion_proposes_red_for_an_overdue_task(client_for, sam, overdue_task):
    response = client_for(sam).get(f"{URL}suggestion/?tasks={overdue_task.pk}")
    assert response.status_code == 200
    assert response.json()["colour"] == "red"
