"""Issue 15 in a real browser: a supervisor posts a 领导批示 mentioning an officer on the task
page; it shows highlighted in the thread, and the officer finds it in their inbox at once."""

import pytest

from tracker.models import CommentKind, EventNotice, EventType, TaskComment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mention_in_a_supervisors_comment_reaches_the_officers_inbox(
    open_as, live_server, city_ledger, artifacts
):
    task = city_ledger["task"]
    supervisor = open_as("zgb")
    supervisor.goto(f"{live_server.url}/tasks/{task.pk}/")
    form = supervisor.locator("#comment-form")
    form.locator("select[name=comment-kind]").select_option("instruction")
    form.locator("textarea[name=comment-body]").fill("@陈联络 请于本周内报送课后服务覆盖情况")
    form.locator("button[type=submit]").click()
    supervisor.wait_for_selector("text=领导批示已发表")
    entry = supervisor.locator("#thread li.comment-instruction")
    assert entry.count() == 1
    assert "请于本周内报送" in entry.inner_text()
    assert "提及：陈联络" in entry.inner_text()
    # The highlight is the project's stylesheet, not an inline style.
    colour = entry.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert colour == "rgb(198, 40, 40)"
    supervisor.screenshot(path=str(artifacts / "comment-instruction.png"), full_page=True)

    officer = open_as("jiaoyu")
    officer.goto(f"{live_server.url}/inbox/")
    card = officer.locator(".notification").filter(has_text=task.title)
    assert card.count() == 1
    assert "有人在任务评论中提到我" in card.inner_text()
    assert "周整改在领导批示中提到了您" in card.inner_text()
    officer.screenshot(path=str(artifacts / "inbox-mentioned.png"), full_page=True)

    # An officer is offered no kind choice: a plain comment, shown without the highlight.
    officer.goto(f"{live_server.url}/tasks/{task.pk}/")
    assert officer.locator("#comment-form select[name=comment-kind]").count() == 0
    officer.fill("#comment-form textarea[name=comment-body]", "收到，本周五前报送。")
    officer.click("#comment-form button[type=submit]")
    officer.wait_for_selector("text=评论已发表")
    assert officer.locator("#thread li.comment").count() == 2
    assert officer.locator("#thread li.comment-instruction").count() == 1

    assert list(TaskComment.objects.order_by("pk").values_list("kind", flat=True)) == [
        CommentKind.INSTRUCTION, CommentKind.COMMENT]
    notices = EventNotice.objects.filter(recipient_user=city_ledger["officer"])
    assert list(notices.values_list("event", flat=True)) == [EventType.MENTIONED]
