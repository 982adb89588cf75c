"""The ledger's round trip in a real browser: export, edit two cells (openpyxl, as a person
does in Excel), upload, the preview shows exactly those two changes, confirm, the task page
shows them and the history has one row each; an officer's sheet that closes a task is refused
with the row named; a 5,000-row import runs as a job whose progress bar advances."""

import io
import threading
import time
from unittest import mock

import pytest
from django.db.models import Max
from openpyxl import load_workbook

from tests.tracker.factories import TaskFactory
from tests.tracker.ledger.helpers import edit
from tracker import tasks as celery_tasks
from tracker.models import (
    LedgerJob,
    LedgerJobState,
    Problem,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
)
from tracker.services.ledger import ledger_export

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def download_export(page, live_server, inspection, tmp_path) -> bytes:
    page.goto(f"{live_server.url}/ledger/")
    page.select_option("#ledger-export-form select[name=inspection]", str(inspection.pk))
    with page.expect_download() as info:
        page.click("#ledger-export-form button[type=submit]")
    path = tmp_path / "exported.xlsx"
    info.value.save_as(str(path))
    return path.read_bytes()


def upload(page, live_server, inspection, data: bytes, tmp_path, name="edited.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    page.goto(f"{live_server.url}/ledger/")
    page.select_option("#ledger-import-form select[name=inspection]", str(inspection.pk))
    page.set_input_files("#ledger-import-form input[name=file]", str(path))
    page.click("#ledger-import-form button[type=submit]")


def test_export_edit_two_cells_preview_confirm_and_history(
    open_as, live_server, city_ledger, tmp_path, artifacts
):
    inspection, task = city_ledger["inspection"], city_ledger["task"]
    other = TaskFactory(problem=task.problem, lead_unit=task.lead_unit, title="建立课后服务台账",
                        status=TaskStatus.IN_PROGRESS)
    supervisor = open_as("zgb")
    exported = download_export(supervisor, live_server, inspection, tmp_path)
    edited = edit(exported, {
        task.title: {"责任人": "赵老师"},
        other.title: {"完成时限": "2027年3月31日"},
    })

    upload(supervisor, live_server, inspection, edited, tmp_path)
    supervisor.wait_for_selector("#ledger-preview")
    changes = supervisor.locator("#ledger-preview-changed tr.ledger-change")
    assert changes.count() == 2
    texts = [" ".join(changes.nth(i).inner_text().split()) for i in range(2)]
    assert any("责任人 李科长 赵老师" in t for t in texts), texts
    assert any("完成时限 2026年12月31日 2027年3月31日" in t for t in texts), texts
    assert "未变<strong>1</strong>行" in supervisor.content()
    assert not TaskEvent.objects.filter(action=TaskAction.EDIT).exists()  # nothing yet
    supervisor.screenshot(path=str(artifacts / "ledger-preview.png"), full_page=True)

    supervisor.click("#ledger-confirm-form button[type=submit]")
    supervisor.wait_for_selector("#ledger-job-result")
    assert "修改整改任务2项，未变1项" in supervisor.inner_text("#ledger-job-result")

    supervisor.goto(f"{live_server.url}/tasks/{task.pk}/")
    assert "赵老师" in supervisor.content()
    supervisor.goto(f"{live_server.url}/tasks/{other.pk}/")
    assert "2027年3月31日" in supervisor.content() or "2027-03-31" in supervisor.content()
    for changed in (task, other):
        assert TaskEvent.objects.filter(task=changed, action=TaskAction.EDIT).count() == 1
        assert changed.events.exclude(action=TaskAction.CREATE).count() == 1


def test_an_officers_sheet_that_closes_a_task_is_refused_with_the_row_named(
    open_as, live_server, city_ledger, tmp_path
):
    inspection, task = city_ledger["inspection"], city_ledger["task"]
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SUBMITTED,
                                           completed_at=task.started_at)
    officer = open_as("jiaoyu")
    exported = download_export(officer, live_server, inspection, tmp_path)
    sheet = load_workbook(io.BytesIO(exported)).active
    row = next(r for r in range(3, sheet.max_row + 1)
               if sheet.cell(r, 4).value == task.title)

    upload(officer, live_server, inspection,
           edit(exported, {task.title: {"完成情况": "已完成整改（已销号）"}}), tmp_path)

    officer.wait_for_selector("#import-rejected")
    errors = officer.inner_text("#import-errors")
    assert f"第{row}行：您没有权限执行“审核销号”" in errors
    assert Task.objects.get(pk=task.pk).status == TaskStatus.SUBMITTED


def _many_tasks(inspection, unit, n: int) -> None:
    # Numbered after the fixture's problem, whatever number the factory's sequence gave it.
    first = (inspection.problems.aggregate(Max("number"))["number__max"] or 0) + 1
    problems = Problem.objects.bulk_create(
        Problem(inspection=inspection, number=first + i, text=f"批量问题{i}") for i in range(n)
    )
    Task.objects.bulk_create(
        Task(inspection=inspection, problem=p, title=f"批量任务{i}", measures="逐项整改。",
             lead_unit=unit, deadline=p.inspection.rectification_deadline,
             original_deadline=p.inspection.rectification_deadline)
        for i, p in enumerate(problems)
    )


def test_a_5000_row_import_shows_its_progress_advancing(
    open_as, live_server, city_ledger, tmp_path, artifacts
):
    inspection, task = city_ledger["inspection"], city_ledger["task"]
    _many_tasks(inspection, task.lead_unit, 4998)
    data = ledger_export(tasks=Task.objects.filter(inspection=inspection))
    supervisor = open_as("zgb")

    # The web process only queues the job; a thread runs the Celery task's function as the
    # worker would, while the page polls the status endpoint.
    with mock.patch("tracker.services.ledger_jobs._queue") as queued:
        upload(supervisor, live_server, inspection, data, tmp_path, name="big.xlsx")
        supervisor.wait_for_selector("#ledger-job-progress")
    job = LedgerJob.objects.get()
    queued.assert_called_once_with(job.pk)
    assert job.progress_total == 5000

    worker = threading.Thread(target=celery_tasks.ledger_job_run, args=(job.pk,))
    worker.start()
    from playwright.sync_api import Error as PlaywrightError

    seen: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if supervisor.locator("#ledger-preview").count():
                break
            value = supervisor.get_attribute("#ledger-job-progress .progress-bar",
                                             "aria-valuenow", timeout=1000)
        except PlaywrightError:  # the page reloads itself when the job is done
            continue
        if value is not None and (not seen or seen[-1] != int(value)):
            seen.append(int(value))
        time.sleep(0.1)
    worker.join(timeout=60)
    supervisor.wait_for_selector("#ledger-preview")
    supervisor.screenshot(path=str(artifacts / "ledger-big-preview.png"), full_page=True)

    job.refresh_from_db()
    assert job.state == LedgerJobState.PREVIEW
    assert job.preview["counts"]["unchanged"] == 5000
    assert seen == sorted(seen), seen  # never backwards
    assert len(set(seen)) >= 2, seen  # at least two different values observed
    assert "未变<strong>5000</strong>行" in supervisor.content()
