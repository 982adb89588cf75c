"""Issue 15 in a real browser: a supervisor closes a task with a verdict and 原因分析, the
回头看 scheduled six months later falls due (the daily sweep), the unit reports it on the
回头看 page, and the supervisor confirms it."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.tracker.factories import TaskFactory
from tracker.models import (
    EventNotice,
    EventType,
    RecheckState,
    TaskAction,
    TaskRecheck,
    TaskStatus,
)
from tracker.services.rechecks import rechecks_sweep
from tracker.services.tasks import default_recheck_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_closed_tasks_recheck_falls_due_and_is_confirmed(
    open_as, live_server, city_ledger, artifacts
):
    task = TaskFactory(problem=city_ledger["task"].problem,
                       lead_unit=city_ledger["task"].lead_unit,
                       title="规范校外培训机构收费行为", status=TaskStatus.SUBMITTED)

    supervisor = open_as("zgb")
    supervisor.goto(f"{live_server.url}/tasks/{task.pk}/")
    form = supervisor.locator("#close-form")
    assert form.locator("input[name=close-recheck_on]").input_value() == (
        default_recheck_on(timezone.localdate()).isoformat())
    form.locator("select[name=close-effectiveness]").select_option("effective")
    form.locator("textarea[name=close-root_cause]").fill("收费监管制度执行不到位。")
    form.locator("input[name=close-confirm_no_evidence]").check()
    form.locator("button[type=submit]").click()
    supervisor.wait_for_selector(f"text=已销号：{task.title}")
    task.refresh_from_db()
    assert (task.status, task.effectiveness) == (TaskStatus.COMPLETED, "effective")
    recheck = TaskRecheck.objects.get(task=task)
    assert recheck.state == RecheckState.SCHEDULED

    # Six months on: the daily sweep marks it due and tells the unit once.
    later = timezone.now() + dt.timedelta(days=190)
    TaskRecheck.objects.filter(pk=recheck.pk).update(due_on=timezone.localdate())
    assert rechecks_sweep(now=later).due == 1
    assert EventNotice.objects.filter(event=EventType.RECHECK_DUE).count() == 1

    officer = open_as("jiaoyu")
    officer.click("nav >> text=回头看")
    officer.wait_for_selector("h1:has-text('回头看')")
    row = officer.locator(".recheck-row").filter(has_text=task.title)
    assert row.count() == 1
    row.locator("select[name=recurred]").select_option("no")
    row.locator("textarea[name=note]").fill("回头看：收费公示到位，未发现反弹。")
    row.locator(".recheck-report-form button[type=submit]").click()
    officer.wait_for_selector("text=已报告回头看情况")
    officer.screenshot(path=str(artifacts / "recheck-reported.png"), full_page=True)

    supervisor.click("nav >> text=回头看")
    supervisor.click("#recheck-tabs >> text=待督导确认")
    supervisor.wait_for_selector("#recheck-tabs .active:has-text('待督导确认')")
    row = supervisor.locator(".recheck-row").filter(has_text=task.title)
    assert "问题未反弹" in row.inner_text()
    row.locator(".recheck-confirm-form button[type=submit]").click()
    supervisor.wait_for_selector("text=已确认回头看")
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.CONFIRMED
    actions = list(task.events.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == [TaskAction.RECHECK_DUE, TaskAction.RECHECK_REPORT,
                            TaskAction.RECHECK_CONFIRM]
    supervisor.goto(f"{live_server.url}/tasks/{task.pk}/")
    assert "已确认" in supervisor.locator("#rechecks").inner_text()
    supervisor.screenshot(path=str(artifacts / "recheck-confirmed.png"), full_page=True)
