"""批量签收 (issue 15): an officer with many new tasks acknowledges them at once — the service,
the API endpoint POST /api/v1/tasks/acknowledge/, and the 批量签收 action of 我的任务.

Task by task like the review queue's bulk actions: each task through task_acknowledge (the
same check, access.may_acknowledge, and its own history row); a refused task is named by title
with its reason and the others are still acknowledged; a task out of sight is named by number
only; supervisors and administrators are refused outright."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import ProblemFactory, UserFactory
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import Role, Task, TaskAction, TaskEvent
from tracker.services import tasks as svc

pytestmark = pytest.mark.django_db


def _new_task(chief, unit, title, **kwargs):
    return svc.task_create(problem=ProblemFactory(), actor=chief, title=title, lead_unit=unit,
                           deadline=dt.date(2027, 6, 30), **kwargs)


def _acks() -> int:
    return TaskEvent.objects.filter(action=TaskAction.ACKNOWLEDGE).count()


@pytest.fixture
def mixed(town, bureau, bob, chief):
    """For bob (officer of 湖滨街道): three new tasks of his unit, one he acknowledged already,
    one his unit only supports (he sees it, may not acknowledge it), one of another unit (out
    of his sight)."""
    new = [_new_task(chief, town, f"新任务{i}") for i in range(1, 4)]
    done = _new_task(chief, town, "已签收的任务")
    svc.task_acknowledge(task=done, actor=bob)
    supported = _new_task(chief, bureau, "配合的任务", supporting_units=[town])
    foreign = _new_task(chief, bureau, "别的单位的任务")
    return {"new": new, "done": done, "supported": supported, "foreign": foreign}


def test_an_officer_acknowledges_many_at_once_and_each_refusal_is_named(mixed, bob):
    new, done, supported, foreign = (mixed[k] for k in ("new", "done", "supported", "foreign"))
    ids = [t.pk for t in new] + [done.pk, supported.pk, foreign.pk]
    before = _acks()

    outcome = svc.tasks_acknowledge_batch(
        actor=bob, task_ids=ids, versions={t.pk: t.version for t in new}, note="已收到",
    )

    assert [t.pk for t in outcome.done] == [t.pk for t in new]
    for task in new:
        task.refresh_from_db()
        assert (task.awaiting_ack, task.acknowledged_by) == (False, bob)
        event = task.events.get(action=TaskAction.ACKNOWLEDGE)
        assert (event.actor, event.note) == (bob, "已收到")
    assert _acks() == before + 3
    refused = {r.pk: (r.which, r.reason) for r in outcome.refused}
    assert refused[done.pk][0] == "“已签收的任务”"
    assert "无需重复签收" in refused[done.pk][1]
    assert refused[supported.pk][0] == "“配合的任务”"
    assert "联络员" in refused[supported.pk][1]
    # Out of sight: by number, never by title.
    assert refused[foreign.pk] == (f"第{foreign.pk}号任务", "任务不存在或您无权查看")
    assert Task.objects.get(pk=supported.pk).awaiting_ack
    assert Task.objects.get(pk=foreign.pk).awaiting_ack


def test_a_task_changed_since_it_was_read_is_refused_and_the_others_still_acknowledged(
    town, bob, chief
):
    first, second = _new_task(chief, town, "甲"), _new_task(chief, town, "乙")
    outcome = svc.tasks_acknowledge_batch(
        actor=bob, task_ids=[first.pk, second.pk],
        versions={first.pk: first.version + 1, second.pk: second.version},
    )
    assert [t.pk for t in outcome.done] == [second.pk]
    [refusal] = outcome.refused
    assert (refusal.which, "任务已被他人修改" in refusal.reason) == ("“甲”", True)
    assert Task.objects.get(pk=first.pk).awaiting_ack


@pytest.mark.parametrize("who", ["sam", "chief", "root_admin"])
def test_supervisors_and_administrators_are_refused_outright(who, request, town, chief):
    task = _new_task(chief, town, "待签收")
    with pytest.raises(ActionForbidden, match="联络员"):
        svc.tasks_acknowledge_batch(actor=request.getfixturevalue(who), task_ids=[task.pk])
    assert Task.objects.get(pk=task.pk).awaiting_ack


def test_nothing_ticked_or_too_many_is_refused_before_any_task_is_touched(town, bob, chief):
    task = _new_task(chief, town, "待签收")
    with pytest.raises(InvalidInput, match="请先勾选"):
        svc.tasks_acknowledge_batch(actor=bob, task_ids=[])
    with pytest.raises(InvalidInput, match=f"最多签收{svc.ACK_BATCH_MAX}项"):
        svc.tasks_acknowledge_batch(actor=bob, task_ids=[task.pk, *range(
            10**6, 10**6 + svc.ACK_BATCH_MAX)])
    assert Task.objects.get(pk=task.pk).awaiting_ack


# --- The API ------------------------------------------------------------------------------------


URL = "/api/v1/tasks/acknowledge/"


def _body(*tasks, **extra):
    return {"tasks": [{"id": t.pk, "version": t.version} for t in tasks], **extra}


def test_api_acknowledges_the_listed_tasks_and_lists_the_refused_with_reasons(
    client_for, mixed, bob
):
    new, done, foreign = mixed["new"], mixed["done"], mixed["foreign"]

    response = client_for(bob).post(URL, _body(*new, done, foreign, note="收到"),
                                    format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["acknowledged"] == [t.pk for t in new]
    assert [r["id"] for r in body["refused"]] == [done.pk, foreign.pk]
    assert body["refused"][0]["title"] == "已签收的任务"
    assert body["refused"][0]["detail"].startswith("“已签收的任务”：该任务已于")
    assert body["refused"][1] == {"id": foreign.pk, "title": None,
                                  "detail": f"第{foreign.pk}号任务：任务不存在或您无权查看"}
    assert not Task.objects.filter(pk__in=[t.pk for t in new], ack_requested_at__isnull=False) \
        .exists()


def test_api_refuses_a_supervisor_and_bad_input_in_chinese_changing_nothing(
    client_for, town, bob, sam, chief
):
    task = _new_task(chief, town, "待签收")
    before = _acks()
    refused = client_for(sam).post(URL, _body(task), format="json")
    assert refused.status_code == 403
    assert "\u4e00" <= refused.json()["detail"][0] <= "\u9fff"
    api = client_for(bob)
    for body in ({"tasks": []}, {"tasks": [{"id": task.pk}]}, _body(task, task),
                 {**_body(task), "status": "done"}):
        answer = api.post(URL, body, format="json")
        assert answer.status_code == 400, body
        assert set(answer.json()) == {"code", "detail", "fields"}
    assert _acks() == before
    assert client_for(None).post(URL, _body(task), format="json").status_code == 401


# --- The page: 我的任务 -----------------------------------------------------------------------


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _picks(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="tasks" value="(\d+)" form="ack-batch"', html)}


def test_my_tasks_offers_a_checkbox_for_each_task_i_may_acknowledge_and_the_form_only_then(
    mixed, bob, sam, alice
):
    html = _page(bob).get("/tasks/").content.decode()
    assert 'id="ack-batch"' in html
    assert "批量签收" in html
    assert _picks(html) == {t.pk for t in mixed["new"]}
    # The supervisor sees the same tasks awaiting 签收 but may not acknowledge them.
    html = _page(sam).get("/tasks/").content.decode()
    assert "待签收" in html
    assert 'id="ack-batch"' not in html
    assert _picks(html) == set()
    # alice (市教育局) sees her unit's tasks awaiting 签收 and acknowledges them.
    assert _picks(_page(alice).get("/tasks/").content.decode()) == {
        mixed["supported"].pk, mixed["foreign"].pk}


def test_the_page_acknowledges_the_ticked_tasks_and_returns_to_the_filtered_list(
    mixed, bob
):
    new = mixed["new"]
    data = {"tasks": [t.pk for t in new[:2]], "query": "ack=awaiting&q=新任务",
            **{f"v{t.pk}": t.version for t in new[:2]}}

    response = _page(bob).post("/tasks/acknowledge/", data, follow=True)

    assert response.redirect_chain[0][0] == "/tasks/?ack=awaiting&q=%E6%96%B0%E4%BB%BB%E5%8A%A1"
    html = response.content.decode()
    assert "已签收（2项）：“新任务1”、“新任务2”" in html
    assert _picks(html) == {new[2].pk}
    assert not Task.objects.get(pk=new[0].pk).awaiting_ack
    assert Task.objects.get(pk=new[2].pk).awaiting_ack


def test_the_page_names_what_it_could_not_acknowledge(mixed, bob):
    done, foreign, new = mixed["done"], mixed["foreign"], mixed["new"][0]
    data = {"tasks": [new.pk, done.pk, foreign.pk], f"v{new.pk}": new.version + 5}

    html = _page(bob).post("/tasks/acknowledge/", data, follow=True).content.decode()

    assert "未能签收“新任务1”：任务已被他人修改" in html
    assert "未能签收“已签收的任务”：该任务已于" in html
    assert f"未能签收第{foreign.pk}号任务：任务不存在或您无权查看" in html
    assert "别的单位的任务" not in html
    assert Task.objects.get(pk=new.pk).awaiting_ack


def test_the_page_refuses_a_supervisor_and_nothing_ticked(town, bob, sam, chief):
    task = _new_task(chief, town, "待签收")
    assert _page(sam).post("/tasks/acknowledge/", {"tasks": [task.pk]}).status_code == 403
    html = _page(bob).post("/tasks/acknowledge/", {}, follow=True).content.decode()
    assert "请先勾选要签收的任务" in html
    assert Task.objects.get(pk=task.pk).awaiting_ack


def test_the_checkboxes_cost_no_query_per_row(town, bob, chief):
    """我的任务 with tasks to acknowledge issues the same queries for 2 rows as for 8: whether
    a row may be acknowledged is decided on what the list already loaded."""
    client = _page(bob)
    for i in range(2):
        _new_task(chief, town, f"任务{i}")
    client.get("/tasks/")

    def queries() -> int:
        client.get("/tasks/")  # the filter's options read (and cached) as new tasks changed them
        with CaptureQueriesContext(connection) as ctx:
            html = client.get("/tasks/").content.decode()
        assert len(_picks(html)) == Task.objects.count()
        return len(ctx.captured_queries)

    two = queries()
    for i in range(6):
        _new_task(chief, town, f"更多任务{i}")
    assert queries() == two


def test_an_officer_of_a_unit_above_with_covers_subunits_acknowledges_in_bulk(
    county, town, chief
):
    """The same rule as one 签收 (access.may_acknowledge): an officer whose scope covers the
    lead unit."""
    boss = UserFactory(username="county_officer", unit=county, role=Role.OFFICER,
                       covers_subunits=True)
    task = _new_task(chief, town, "街道的任务")
    outcome = svc.tasks_acknowledge_batch(actor=boss, task_ids=[task.pk])
    assert [t.pk for t in outcome.done] == [task.pk]
