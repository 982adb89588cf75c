"""Issue 15, 督办单 on the pages: the issue form reached from the task page and the task list,
the register with its colours and states, the notice page with the unit's reply form, the task
page's notices; an officer never sees another unit's task through a notice."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.tracker.factories import SupervisionNoticeItemFactory, TaskFactory
from tracker.models import SupervisionNotice, TaskAction, TaskEvent, TaskStatus
from tracker.workdays import add_workdays

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_issue_form_from_the_task_page_ticks_the_task_and_proposes_red(sam, overdue_task):
    client = client_of(sam)
    task_page = client.get(f"/tasks/{overdue_task.pk}/").content.decode()
    assert f'href="/notices/new/?task={overdue_task.pk}"' in task_page
    form = client.get(f"/notices/new/?task={overdue_task.pk}").content.decode()
    assert f'value="{overdue_task.pk}" id="notice-task-{overdue_task.pk}"' in form
    assert f'id="notice-task-{overdue_task.pk}" aria-label="选择：{overdue_task.title}" checked' \
        in form
    assert 'value="red" class="form-check-input" id="id_colour_2" required checked' in form


def test_the_task_list_links_its_filters_to_the_issue_form(sam, overdue_task, lagging_task):
    client = client_of(sam)
    listing = client.get("/tasks/?q=湖滨").content.decode()
    assert 'id="notice-from-list" href="/notices/new/?q=%E6%B9%96%E6%BB%A8"' in listing
    form = client.get("/notices/new/?q=湖滨").content.decode()
    assert overdue_task.title in form
    assert lagging_task.title not in form


def test_officer_has_no_issue_form(bob, overdue_task):
    assert client_of(bob).get(f"/notices/new/?task={overdue_task.pk}").status_code == 403
    assert 'id="task-notice-issue"' not in client_of(bob).get(
        f"/tasks/{overdue_task.pk}/").content.decode()


def test_issue_through_the_page_then_each_unit_replies_on_its_notice_page(
    sam, bob, vera, overdue_task, lagging_task
):
    reply_by = add_workdays(timezone.localdate(), 3)
    response = client_of(sam).post("/notices/new/", {
        "tasks": [overdue_task.pk, lagging_task.pk], "colour": "red",
        "reason": "两项任务均已逾期", "requirements": "", "reply_by": reply_by.isoformat(),
    })
    notice = SupervisionNotice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/notices/{notice.pk}/"

    page = client_of(bob).get(f"/notices/{notice.pk}/").content.decode()
    assert overdue_task.title in page
    assert lagging_task.title not in page  # vera's unit's task, never shown to bob
    assert f'action="/notices/{notice.pk}/reply/{overdue_task.pk}/"' in page
    done = client_of(bob).post(f"/notices/{notice.pk}/reply/{overdue_task.pk}/",
                               {f"t{overdue_task.pk}-reply": "已完成清理，建立长效机制"})
    assert done.status_code == 302
    assert "已完成清理，建立长效机制" in client_of(sam).get(
        f"/notices/{notice.pk}/").content.decode()
    register = client_of(sam).get("/notices/").content.decode()
    assert 'data-state="partial" data-colour="red"' in register
    assert '<span class="notice-colour notice-red">红色督办</span>' in register
    # bob's register: his part only, answered.
    assert 'data-state="replied"' in client_of(bob).get("/notices/").content.decode()
    assert TaskEvent.objects.filter(task=overdue_task, action=TaskAction.NOTICE_REPLY).exists()
    task_page = client_of(bob).get(f"/tasks/{overdue_task.pk}/").content.decode()
    assert notice.number in task_page
    assert "回复督办单" in task_page  # the history row in the timeline


def test_an_empty_reply_shows_the_error_and_changes_nothing(sam, bob, overdue_task):
    item = SupervisionNoticeItemFactory(task=overdue_task, notice__issued_by=sam)
    response = client_of(bob).post(f"/notices/{item.notice_id}/reply/{overdue_task.pk}/",
                                   {f"t{overdue_task.pk}-reply": ""})
    assert response.status_code == 400
    assert "填写的内容有误" in response.content.decode()
    item.refresh_from_db()
    assert item.replied_at is None


def test_register_filters_by_state_and_colour(chief, town):
    blue = SupervisionNoticeItemFactory(notice__colour="blue", task=TaskFactory(lead_unit=town))
    red = SupervisionNoticeItemFactory(notice__colour="red", task=TaskFactory(lead_unit=town),
                                       reply="已整改", replied_by=chief,
                                       replied_at=timezone.now())
    client = client_of(chief)
    only_blue = client.get("/notices/?colour=blue").content.decode()
    assert blue.notice.number in only_blue
    assert red.notice.number not in only_blue
    answered = client.get("/notices/?state=replied").content.decode()
    assert red.notice.number in answered
    assert blue.notice.number not in answered


def test_the_register_page_costs_the_same_queries_for_2_or_10_notices(sam, town):
    client = client_of(sam)
    counts = []
    for added in (2, 8):
        for _ in range(added):
            SupervisionNoticeItemFactory(task=TaskFactory(lead_unit=town,
                                                          status=TaskStatus.IN_PROGRESS))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/notices/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_navigation_shows_the_register_to_officers_and_supervisors(bob, sam):
    for user in (bob, sam):
        assert 'href="/notices/">督办单</a>' in client_of(user).get("/notices/").content.decode()


def test_the_notice_reaches_the_officers_inbox(sam, bob, overdue_task):
    from tracker.services.notices import notice_issue

    notice = notice_issue(actor=sam, task_ids=[overdue_task.pk], colour="red",
                          reason="任务已逾期", reply_by=add_workdays(timezone.localdate(), 3))
    inbox = client_of(bob).get("/inbox/").content.decode()
    assert notice.number in inbox
    assert overdue_task.title in inbox
