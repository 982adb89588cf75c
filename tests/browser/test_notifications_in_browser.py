"""Issue 11 in a real browser: the 通知设置 page reached from the user menu, and a submission
that lands in the supervisor's inbox at once (not at the next sweep)."""

import pytest

from tracker.models import EventNotice, NotificationPreference

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_settings_from_the_menu_and_a_submission_in_the_supervisors_inbox(
    open_as, live_server, city_ledger, artifacts
):
    task = city_ledger["task"]
    officer = open_as("jiaoyu")
    officer.click("nav >> text=通知设置")
    officer.wait_for_selector("h1:has-text('通知设置')")
    assert officer.locator("#id_inbox").is_checked()  # the inbox is always on
    assert officer.locator("#id_inbox").is_disabled()
    officer.uncheck("#id_by_email")
    officer.uncheck("#id_on_reopened")
    officer.click("#notification-preferences button[type=submit]")
    officer.wait_for_selector("text=通知设置已保存")
    officer.screenshot(path=str(artifacts / "notification-preferences.png"), full_page=True)
    pref = NotificationPreference.objects.get(user=city_ledger["officer"])
    assert (pref.by_email, pref.on_reopened, pref.on_sent_back) == (False, False, True)

    officer.goto(f"{live_server.url}/tasks/{task.pk}/")
    officer.fill("#submit-form textarea[name=submit-note]", "整改措施已全部落实，申请销号。")
    officer.click("#submit-form button[type=submit]")
    officer.wait_for_selector("text=已提交销号申请")

    supervisor = open_as("zgb")
    supervisor.goto(f"{live_server.url}/inbox/")
    card = supervisor.locator(".notification").filter(has_text=task.title)
    assert card.count() == 1
    assert "任务提交销号，等待审核" in card.inner_text()
    assert "请于" in card.inner_text()  # the review deadline
    supervisor.screenshot(path=str(artifacts / "inbox-submitted.png"), full_page=True)
    assert EventNotice.objects.filter(recipient_user=city_ledger["supervisor"]).count() == 1
