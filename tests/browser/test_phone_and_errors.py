"""Issue #11, part 4, in a real browser: the pages on a phone (390 px wide) without sideways
scrolling, and each error page (400/403/404/500) in Chinese in the site's layout.
Screenshots go to test-artifacts/ (phone-*.png, error-*.png)."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.tracker.factories import EvidenceFactory, UnitFactory
from tracker.models import TaskStatus
from tracker.services import tasks as task_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_TITLE = ("推动全市农村中小学课后服务全覆盖并建立经费保障、师资统筹和质量评价的长效机制"
              "（含寄宿制学校晚自习管理）")


@pytest.fixture
def open_phone(chromium, live_server, visits):
    """open_phone(username) → a logged-in page on a 390 px wide phone screen."""
    contexts = []

    def open_(username: str | None):
        context = chromium.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True,
                                       has_touch=True, device_scale_factor=2)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: visits.urls.append(request.url))
        page.goto(f"{live_server.url}/login/")
        if username:
            page.fill("#id_username", username)
            page.fill("#id_password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield open_
    for context in contexts:
        context.close()


def no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    assert widths[1] <= PHONE["width"]


@pytest.fixture
def busy_ledger(city_ledger):
    """The city ledger with what makes a page wide: a long title, a long unit name, several
    supporting units, a progress report with a percent, an evidence file with a long name,
    and a task submitted for 销号 (for the review queue)."""
    task, officer = city_ledger["task"], city_ledger["officer"]
    city = officer.unit.parent
    task.title = LONG_TITLE
    task.save(update_fields=["title"])
    task.supporting_units.set([
        UnitFactory(name=f"江屿市人力资源和社会保障局第{n}综合业务处", parent=city)
        for n in range(3)
    ])
    task_services.task_report_progress(
        task=task, actor=officer, percent=60,
        note="已完成全市127所农村学校课后服务排查，https://example.invalid/一个很长很长的链接地址"
             "不应撑宽页面/0123456789012345678901234567890123456789",
    )
    EvidenceFactory(task=task, uploaded_by=officer,
                    original_name="江屿市农村中小学课后服务全覆盖整改情况报告及附件清单（第二版）.pdf")
    task.refresh_from_db()
    submitted = task_services.task_submit(task=task, actor=officer,
                                          note="整改措施已全部落实，申请销号。")
    return {**city_ledger, "task": submitted}


def test_task_list_and_task_page_fit_a_phone(open_phone, live_server, busy_ledger, artifacts):
    task = busy_ledger["task"]
    officer = open_phone("jiaoyu")
    officer.goto(f"{live_server.url}/tasks/")
    assert officer.locator(".task-row").count() == 2
    # Rows are stacked into cards: the table's header row is hidden on a phone.
    assert not officer.locator("table.table-tasks thead").is_visible()
    assert officer.get_by_text("60%").is_visible()
    no_sideways_scroll(officer)
    officer.screenshot(path=str(artifacts / "phone-task-list.png"), full_page=True)

    officer.goto(f"{live_server.url}/tasks/{task.pk}/")
    officer.wait_for_selector("#task-title")
    no_sideways_scroll(officer)
    officer.screenshot(path=str(artifacts / "phone-task-page.png"), full_page=True)
    # Stacked: the actions column comes below the task information, not beside it.
    info = officer.locator(".card", has_text="任务信息").first.bounding_box()
    actions = officer.locator("#task-actions").bounding_box()
    assert actions["y"] > info["y"] + info["height"] - 1

    supervisor = open_phone("zgb")
    supervisor.goto(f"{live_server.url}/tasks/{task.pk}/")
    form = supervisor.locator("#close-form")
    assert form.is_visible()
    no_sideways_scroll(supervisor)
    # Forms take the full width of the screen (less the page's padding).
    assert form.locator("#id_close-note").bounding_box()["width"] > PHONE["width"] - 80
    supervisor.screenshot(path=str(artifacts / "phone-task-page-supervisor.png"),
                          full_page=True)

    supervisor.goto(f"{live_server.url}/review/")
    assert supervisor.locator(f'.review-row[data-task="{task.pk}"]').is_visible()
    no_sideways_scroll(supervisor)
    supervisor.screenshot(path=str(artifacts / "phone-review.png"), full_page=True)


def test_the_review_queue_on_a_phone_closes_with_the_task_named(open_phone, live_server,
                                                                busy_ledger):
    task = busy_ledger["task"]
    supervisor = open_phone("zgb")
    supervisor.goto(f"{live_server.url}/review/")
    row = supervisor.locator(f'.review-row[data-task="{task.pk}"]')
    assert row.get_by_text("整改措施已全部落实，申请销号。").is_visible()
    row.locator(".close-form select[name=close-effectiveness]").select_option("effective")
    row.locator(".close-form button[type=submit]").click()
    supervisor.wait_for_selector(f"text=已销号：{LONG_TITLE}")
    no_sideways_scroll(supervisor)
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


ERROR_TEXT = {400: "请求有误（400）", 403: "无权访问（403）", 404: "页面不存在（404）",
              500: "服务器内部错误（500）"}
ENGLISH = ("Bad Request", "Forbidden", "Not Found", "Server Error", "Traceback")


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_each_error_page_is_chinese_in_the_layout(open_phone, live_server, city_ledger,
                                                  artifacts, settings, status):
    settings.ROOT_URLCONF = "tests.browser.failing_urls"
    page = open_phone("jiaoyu")
    paths = {
        # More fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django refuses the request (400).
        400: "/tasks/?" + "&".join(f"f{n}=1" for n in range(1100)),
        403: "/review/",  # an officer at the supervisors' queue
        404: "/tasks/999999/",
        500: "/fail-for-test/",
    }
    response = page.goto(f"{live_server.url}{paths[status]}")
    assert response.status == status
    body = page.locator("body").inner_text()
    assert ERROR_TEXT[status] in body
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    for word in ENGLISH:
        assert word not in body
    assert "巡视整改跟踪系统" in page.title()
    if status == 403:
        assert page.locator("#error-reason").inner_text() == "只有督导人员可以审核"
    if status == 404:
        assert page.locator("#error-reason").inner_text() == "任务不存在或您无权查看"
    if status != 500:  # the 500 page renders without the database: no navigation
        assert page.locator("nav.navbar").count() == 1
    # The layout's own CSS is there (served by the project): its system font stack applies.
    assert page.evaluate(
        "() => getComputedStyle(document.body).fontFamily"
    ).startswith("system-ui")
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"error-{status}.png"), full_page=True)
