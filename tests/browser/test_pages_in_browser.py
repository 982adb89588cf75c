"""The pages in a real browser (Debian's chromium, headless)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def completed_for(page, inspection) -> int:
    cell = page.locator(f'tr[data-inspection="{inspection.pk}"] .fig-completed')
    return int(cell.inner_text())


def test_officer_reports_and_submits_supervisor_closes_dashboard_counts_it(
    open_as, live_server, city_ledger, artifacts, tmp_path
):
    """Point 1: progress with an evidence file, submit, 销号, and the dashboard's completion
    figure for the inspection goes up by one task. Screenshots: dashboard and task page."""
    inspection, task = city_ledger["inspection"], city_ledger["task"]
    supervisor = open_as("zgb")
    supervisor.goto(f"{live_server.url}/dashboard/")
    before = completed_for(supervisor, inspection)

    officer = open_as("jiaoyu")
    assert officer.url.endswith("/tasks/")
    officer.click(f"text={task.title}")
    evidence = tmp_path / "课后服务整改报告.pdf"
    evidence.write_bytes(b"%PDF-1.4 rectification report")
    officer.fill("#progress-form textarea[name=note]", "农村学校课后服务已全部开展，附整改报告。")
    officer.fill("#progress-form input[name=percent]", "100")
    officer.set_input_files("#progress-form input[name=files]", str(evidence))
    officer.click("#progress-form button[type=submit]")
    officer.wait_for_selector("text=整改进展已填报")
    assert officer.locator("#evidence").get_by_text("课后服务整改报告.pdf").count() == 1
    officer.fill("#submit-form textarea[name=submit-note]", "整改措施已全部落实，申请销号。")
    officer.click("#submit-form button[type=submit]")
    officer.wait_for_selector("text=已提交销号申请")
    assert officer.locator("#task-status").inner_text() == "已提交待审核"
    officer.screenshot(path=str(artifacts / "task-page.png"), full_page=True)

    supervisor.goto(f"{live_server.url}/review/")
    row = supervisor.locator(f'.review-row[data-task="{task.pk}"]')
    assert row.get_by_text("课后服务整改报告.pdf").count() == 1
    row.locator(".close-form input[name=close-note]").fill("经核查，整改到位。")
    row.locator(".close-form select[name=close-effectiveness]").select_option("effective")
    row.locator(".close-form button[type=submit]").click()
    supervisor.wait_for_selector(f"text=已销号：{task.title}")

    supervisor.goto(f"{live_server.url}/dashboard/")
    assert completed_for(supervisor, inspection) == before + 1
    supervisor.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    task.refresh_from_db()
    assert task.status == "completed"


def test_no_page_asks_any_host_but_the_project(open_as, live_server, city_ledger, artifacts):
    """Point 2: every page, as an officer and as a supervisor; the `visits` fixture asserts
    that every request went to the live server's own host."""
    from tests.reports.factories import ExtractedFigureFactory

    inspection, task = city_ledger["inspection"], city_ledger["task"]
    report = ExtractedFigureFactory(inspection=inspection, review_state="confirmed").report
    officer = open_as("jiaoyu")
    for path in ("/tasks/", f"/tasks/{task.pk}/", "/tasks/?status=overdue", "/password/",
                 "/inbox/", "/ledger/"):
        officer.goto(f"{live_server.url}{path}")
        officer.wait_for_load_state("networkidle")
    supervisor = open_as("zgb")
    for path in ("/dashboard/", f"/dashboard/?inspection={inspection.pk}", "/review/",
                 "/reports/monthly/", "/tasks/", f"/tasks/{task.pk}/", "/ledger/",
                 "/reports/documents/", "/reports/findings/",
                 f"/reports/findings/?inspection={inspection.pk}",
                 f"/reports/documents/{report.pk}/"):
        supervisor.goto(f"{live_server.url}{path}")
        supervisor.wait_for_load_state("networkidle")
    supervisor.screenshot(path=str(artifacts / "report-page.png"), full_page=True)
    supervisor.goto(f"{live_server.url}/reports/findings/?inspection={inspection.pk}")
    supervisor.screenshot(path=str(artifacts / "findings.png"), full_page=True)
    supervisor.emulate_media(media="print")
    supervisor.goto(f"{live_server.url}/dashboard/")
    supervisor.screenshot(path=str(artifacts / "dashboard-print.png"), full_page=True)
    assert not supervisor.locator("nav.navbar").is_visible()  # printed without navigation
    with supervisor.expect_download() as download:
        supervisor.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.click(); }",
            f"/reports/monthly/?inspection={inspection.pk}&as_of=2026-11-24",
        )
    assert download.value.suggested_filename.endswith(".docx")
