"""Issue #11, part 4: the review queue (/review/) holds up.

The officer's submit note and the evidence list per task; a confirmation before 销号 when
there is no evidence (a checkbox, checked server-side); a success message naming the task;
bulk 销号/退回 of ticked tasks, each through the same service and permission check, a refused
task named while the others are still done; and a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import (
    EvidenceFactory,
    ProgressReportFactory,
    TaskFactory,
    UserFactory,
)
from tests.tracker.web.conftest import logged_in
from tracker.models import Role, TaskStatus
from tracker.services import review as review_services
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db


def submitted_task(unit, *, title: str, note: str = "整改措施已全部落实，申请销号。",
                   evidence: bool = False, percent: int | None = None):
    """A task of `unit` submitted for 销号 through the service, by the unit's own officer
    (after a progress report with `percent`, when given)."""
    officer = UserFactory(unit=unit, role=Role.OFFICER)
    task = TaskFactory(lead_unit=unit, title=title, status=TaskStatus.IN_PROGRESS)
    if percent is not None:
        task_services.task_report_progress(task=task, actor=officer, note="阶段进展",
                                           percent=percent)
        task.refresh_from_db()
    if evidence:
        EvidenceFactory(task=task, original_name="整改报告.pdf", uploaded_by=officer)
    return task_services.task_submit(task=task, actor=officer, note=note)


def close(client, task, **extra):
    return client.post(f"/tasks/{task.pk}/close/", {
        "close-version": task.version, "close-note": "", "next": "/review/",
        "close-effectiveness": "effective", **extra,
    })


def bulk(client, action, tasks, **extra):
    data = {"action": action, "tasks": [t.pk for t in tasks], **extra}
    data.update({f"v{t.pk}": t.version for t in tasks})
    return client.post("/review/bulk/", data)


# --- What the queue shows -----------------------------------------------------------------


def test_the_queue_shows_the_submit_note_and_the_evidence_of_each_task(chief_client, bureau):
    with_files = submitted_task(bureau, title="修订议事规则", note="已修订并印发议事规则",
                                evidence=True)
    without = submitted_task(bureau, title="整改专题会议", note="会议已召开")
    html = chief_client.get("/review/").content.decode()
    assert "已修订并印发议事规则" in html
    assert "会议已召开" in html
    assert "整改报告.pdf" in html
    # No template source leaks onto the page.
    assert "{#" not in html
    assert "{%" not in html
    # Each task's block names its own evidence, or says there is none.
    blocks = html.split('class="card mb-3 review-row"')[1:]
    by_task = {pk: next(b for b in blocks if f'data-task="{pk}"' in b)
               for pk in (with_files.pk, without.pk)}
    assert "整改报告.pdf" in by_task[with_files.pk]
    assert "未上传佐证材料" in by_task[without.pk]
    assert "整改报告.pdf" not in by_task[without.pk]
    # The confirmation box is offered only where it is needed.
    assert 'name="close-confirm_no_evidence"' in by_task[without.pk]
    assert 'name="close-confirm_no_evidence"' not in by_task[with_files.pk]


def test_the_queue_shows_a_percent_only_where_one_was_reported(chief_client, bureau):
    submitted_task(bureau, title="有进度的任务", percent=80)
    submitted_task(bureau, title="没有进度的任务")
    html = chief_client.get("/review/").content.decode()
    blocks = html.split('class="card mb-3 review-row"')[1:]
    with_percent = next(b for b in blocks if "有进度的任务" in b)
    without_percent = next(b for b in blocks if "没有进度的任务" in b)
    assert "进度80%" in with_percent
    assert "%" not in without_percent.split("申请销号说明")[0]
    assert "0%" not in without_percent


# --- Closing without evidence needs confirmation --------------------------------------------


def test_closing_without_evidence_is_refused_without_the_confirmation(chief_client, bureau):
    task = submitted_task(bureau, title="没有佐证的任务")
    response = close(chief_client, task)
    assert response.status_code == 400
    assert "确认无佐证材料销号" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED


def test_closing_without_evidence_is_done_with_the_confirmation(chief_client, bureau):
    task = submitted_task(bureau, title="没有佐证的任务")
    response = close(chief_client, task, **{"close-confirm_no_evidence": "on"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_closing_with_evidence_needs_no_confirmation_and_names_the_task(chief_client, bureau):
    task = submitted_task(bureau, title="修订议事规则", evidence=True)
    response = close(chief_client, task)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert "已销号：修订议事规则" in chief_client.get("/review/").content.decode()


def test_the_rule_is_the_services_so_every_caller_gets_it(chief, bureau):
    task = submitted_task(bureau, title="没有佐证的任务")
    with pytest.raises(review_services.InvalidInput, match="确认无佐证材料销号"):
        review_services.task_close_reviewed(task=task, actor=chief)
    assert review_services.task_close_reviewed(
        task=task, actor=chief, confirm_no_evidence=True
    ).status == TaskStatus.COMPLETED


def test_someone_who_may_not_close_hears_that_not_about_the_box(alice_client, bureau):
    task = submitted_task(bureau, title="没有佐证的任务")
    response = close(alice_client, task)
    assert response.status_code == 403
    assert "您没有权限" in response.content.decode()


# --- Bulk 销号 / 退回 -----------------------------------------------------------------------


def test_bulk_close_closes_every_ticked_task_and_names_them(chief_client, bureau):
    first = submitted_task(bureau, title="任务甲", evidence=True)
    second = submitted_task(bureau, title="任务乙", evidence=True)
    untouched = submitted_task(bureau, title="任务丙", evidence=True)
    response = bulk(chief_client, "close", [first, second])
    assert response.status_code == 302
    for task in (first, second, untouched):
        task.refresh_from_db()
    assert (first.status, second.status) == (TaskStatus.COMPLETED, TaskStatus.COMPLETED)
    assert untouched.status == TaskStatus.SUBMITTED
    html = chief_client.get("/review/").content.decode()
    assert "已销号（2项）：“任务甲”、“任务乙”" in html


def test_bulk_close_refuses_only_the_tasks_without_evidence_unless_confirmed(
    chief_client, bureau
):
    with_files = submitted_task(bureau, title="有佐证的任务", evidence=True)
    without = submitted_task(bureau, title="无佐证的任务")
    bulk(chief_client, "close", [with_files, without])
    with_files.refresh_from_db()
    without.refresh_from_db()
    assert with_files.status == TaskStatus.COMPLETED
    assert without.status == TaskStatus.SUBMITTED
    html = chief_client.get("/review/").content.decode()
    assert "未能处理“无佐证的任务”" in html
    assert "确认无佐证材料销号" in html

    bulk(chief_client, "close", [without], confirm_no_evidence="on")
    without.refresh_from_db()
    assert without.status == TaskStatus.COMPLETED


def test_bulk_refuses_and_names_a_task_outside_the_supervisors_scope_and_does_the_rest(
    sam, town, bureau, county
):
    """The county's supervisor sees a bureau task the county supports but may not decide it
    (tracker.access.can_supervise: by lead unit); a task they cannot see at all is refused by
    its number, its title not shown. Their own task is still sent back."""
    client = logged_in(sam)
    mine = submitted_task(town, title="本区任务")
    supported = submitted_task(bureau, title="市局牵头本区配合的任务")
    supported.supporting_units.set([county])
    hidden = submitted_task(bureau, title="市局自己的任务")
    response = bulk(client, "send_back", [mine, supported, hidden], note="佐证材料不完整")
    assert response.status_code == 302
    for task in (mine, supported, hidden):
        task.refresh_from_db()
    assert mine.status == TaskStatus.IN_PROGRESS
    assert mine.events.last().note == "佐证材料不完整"
    assert (supported.status, hidden.status) == (TaskStatus.SUBMITTED, TaskStatus.SUBMITTED)
    html = client.get("/review/").content.decode()
    assert "已退回整改（1项）：“本区任务”" in html
    assert "未能处理“市局牵头本区配合的任务”：您没有权限" in html
    assert f"未能处理第{hidden.pk}号任务：任务不存在或您无权查看" in html
    assert "市局自己的任务" not in html


def test_bulk_send_back_needs_a_reason_and_touches_nothing_without_one(chief_client, bureau):
    task = submitted_task(bureau, title="任务甲")
    response = bulk(chief_client, "send_back", [task], note="  ")
    assert response.status_code == 400
    html = response.content.decode()
    assert "批量退回须填写退回理由" in html
    # The ticked task stays ticked on the refused form.
    assert f'id="pick-{task.pk}" aria-label="选择：任务甲" checked' in html
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED


def test_bulk_with_nothing_ticked_is_a_clear_refusal(chief_client):
    response = chief_client.post("/review/bulk/", {"action": "close"})
    assert response.status_code == 400
    assert "请先勾选要处理的任务" in response.content.decode()


def test_bulk_refuses_a_task_changed_since_the_page_was_read(chief_client, bureau):
    fresh = submitted_task(bureau, title="任务甲", evidence=True)
    stale = submitted_task(bureau, title="任务乙", evidence=True)
    data = {"action": "close", "tasks": [fresh.pk, stale.pk], f"v{fresh.pk}": fresh.version,
            f"v{stale.pk}": stale.version - 1}
    chief_client.post("/review/bulk/", data)
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert (fresh.status, stale.status) == (TaskStatus.COMPLETED, TaskStatus.SUBMITTED)
    assert "未能处理“任务乙”：任务已被他人修改" in chief_client.get("/review/").content.decode()


def test_officers_cannot_use_the_bulk_form(alice_client, bureau):
    task = submitted_task(bureau, title="任务甲", evidence=True)
    assert bulk(alice_client, "close", [task]).status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED


# --- No N+1 --------------------------------------------------------------------------------


def _queries_for_review(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/review/")
    assert response.status_code == 200
    return len(captured)


def test_the_review_page_runs_a_constant_number_of_queries(chief_client, bureau, alice):
    """session, user, the user's unit; the submitted tasks (units, problem, inspection
    joined), supporting units, evidence, progress reports, submit events prefetched; pending
    extensions; unread messages for the navigation — the same for 2 tasks and for 12."""

    def add(count):
        for index in range(count):
            task = submitted_task(bureau, title=f"任务{index}", evidence=True)
            ProgressReportFactory(task=task, author=alice)

    add(2)
    small = _queries_for_review(chief_client)
    add(10)
    large = _queries_for_review(chief_client)
    assert small == large
    assert small <= 12


def test_the_task_page_offers_the_confirmation_only_without_evidence(chief_client, bureau):
    without = submitted_task(bureau, title="没有佐证的任务")
    with_files = submitted_task(bureau, title="有佐证的任务", evidence=True)
    page = chief_client.get(f"/tasks/{without.pk}/").content.decode()
    assert 'name="close-confirm_no_evidence"' in page
    assert "确认无佐证材料销号" in page
    page = chief_client.get(f"/tasks/{with_files.pk}/").content.decode()
    assert 'name="close-confirm_no_evidence"' not in page
