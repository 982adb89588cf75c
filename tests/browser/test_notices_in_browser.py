"""Issue 15 in a real browser: a supervisor issues a red 督办单 on two units' tasks, both units
see it (each only its own task) and reply, the register shows it answered."""

import pytest

from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tracker.models import (
    EventNotice,
    EventType,
    Role,
    SupervisionNotice,
    TaskStatus,
    UnitKind,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_red_notice_on_two_tasks_answered_by_both_units(
    open_as, live_server, city_ledger, artifacts
):
    first = city_ledger["task"]
    housing = UnitFactory(name="市住房和城乡建设局", kind=UnitKind.CITY_DEPARTMENT,
                          parent=city_ledger["task"].lead_unit.parent)
    UserFactory(username="zhujian", full_name="张联络", unit=housing, role=Role.OFFICER)
    second = TaskFactory(problem=first.problem, lead_unit=housing,
                         title="整治老旧小区加装电梯审批拖延", status=TaskStatus.NOT_STARTED)

    supervisor = open_as("zgb")
    supervisor.click("nav >> text=督办单")
    supervisor.wait_for_selector("h1:has-text('督办单登记簿')")
    supervisor.click("#notice-issue")
    supervisor.wait_for_selector("h1:has-text('下发督办单')")
    supervisor.check(f"#notice-task-{first.pk}")
    supervisor.check(f"#notice-task-{second.pk}")
    supervisor.check("input[name=colour][value=red]")
    supervisor.fill("#id_reason", "两项任务整改进度严重滞后，未按方案推进。")
    supervisor.fill("#id_requirements", "请说明逾期原因并提出整改时间表。")
    supervisor.click("#notice-issue-form button[type=submit]")
    supervisor.wait_for_selector("text=已下发督办〔")
    notice = SupervisionNotice.objects.get()
    assert notice.colour == "red"
    assert notice.items.count() == 2
    supervisor.screenshot(path=str(artifacts / "notice-issued.png"), full_page=True)

    for username, mine, other in (("jiaoyu", first, second), ("zhujian", second, first)):
        officer = open_as(username)
        officer.click("nav >> text=督办单")
        # A click does not wait for the page it opens: count rows only once the register is up.
        officer.wait_for_selector("h1:has-text('督办单登记簿')")
        row = officer.locator(".notice-row").filter(has_text=notice.number)
        assert row.count() == 1
        assert "红色督办" in row.inner_text()
        row.locator("a.notice-number").click()
        officer.wait_for_selector(f"#notice-item-{mine.pk}")
        assert officer.locator(f"#notice-item-{other.pk}").count() == 0
        assert other.title not in officer.content()
        officer.fill(f"#notice-item-{mine.pk} textarea", f"{username}：已制定整改时间表。")
        officer.click(f"#notice-item-{mine.pk} button[type=submit]")
        officer.wait_for_selector(f"text=已回复{notice.number}")
        assert f"{username}：已制定整改时间表。" in officer.locator(
            f"#notice-item-{mine.pk}").inner_text()
        officer.screenshot(path=str(artifacts / f"notice-reply-{username}.png"), full_page=True)

    supervisor.goto(f"{live_server.url}/notices/")
    row = supervisor.locator(".notice-row").filter(has_text=notice.number)
    assert row.get_attribute("data-state") == "replied"
    assert "已回复" in row.inner_text()
    assert "2/2" in row.inner_text()
    supervisor.screenshot(path=str(artifacts / "notice-register.png"), full_page=True)
    # Notified exactly once each: the two units of the notice, the issuer of each reply.
    assert EventNotice.objects.filter(event=EventType.NOTICE_ISSUED).count() == 2
    assert EventNotice.objects.filter(event=EventType.NOTICE_REPLIED,
                                      recipient_user__username="zgb").count() == 2
