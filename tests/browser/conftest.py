"""Browser tests: Playwright driving Debian's chromium (/usr/bin/chromium), headless, against
pytest-django's live server. Playwright's own browser downloads are never used.

Without /usr/bin/chromium these tests skip, unless TRACKER_REQUIRE_BROWSER=1 (CI), where
they fail instead. Screenshots go to test-artifacts/ at the checkout's root (gitignored).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.tracker.factories import (
    InspectionFactory,
    ProblemFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
)
from tracker.models import Role, TaskStatus, UnitKind

CHROMIUM = Path(os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("TRACKER_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PASSWORD = "demo-pass-123"
CSP_VIOLATION = "Content-Security-Policy violation:"


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") and not CHROMIUM.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but there is no browser at {CHROMIUM}")
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def chromium():
    """One browser per module. Playwright's sync API keeps an event loop running in this
    thread while it is open, which Django takes for async code: the database calls of the
    tests (factories, refresh_from_db) are plain sync code, so the check is lifted for
    exactly as long as the loop runs."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Visits:
    """Every request the pages made, by every browser context of the test, and every
    Content-Security-Policy violation chromium reported on their consoles."""

    def __init__(self):
        self.urls: list[str] = []
        self.csp_violations: list[str] = []

    def watch(self, page) -> None:
        page.on("request", lambda request: self.urls.append(request.url))
        # Every page reports the browser's own violation events on its console, whatever
        # wording chromium's console messages use ("Refused to execute inline script…",
        # "Loading the image '…' violates the following Content Security Policy directive…").
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'" + CSP_VIOLATION + " ' + e.violatedDirective + ' ' + e.blockedURI));"
        )
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message) -> None:
        if message.type == "error" and message.text.startswith(CSP_VIOLATION):
            self.csp_violations.append(f"{page.url}: {message.text}")

    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.urls if urlsplit(url).scheme in
                ("http", "https", "ws", "wss")}


@pytest.fixture
def visits(live_server):
    recorded = Visits()
    yield recorded
    # Acceptance point 2: nothing any page asked for went anywhere but the project itself.
    assert recorded.urls, "the test made no request"
    assert recorded.hosts() == {urlsplit(live_server.url).netloc}, recorded.hosts()
    # Issue 14: the pages run under the Content-Security-Policy (config/csp.py) unharmed.
    assert not recorded.csp_violations, "\n".join(recorded.csp_violations)


@pytest.fixture
def open_as(chromium, live_server, visits):
    """open_as(username) → a logged-in page (each in its own browser context)."""
    contexts = []

    def open_(username: str):
        context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        visits.watch(page)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def city_ledger(chromium, transactional_db):
    """A city, a bureau with its officer, a supervisor over the city, and one inspection with a
    task in progress (and one already closed) for the bureau."""
    city = UnitFactory(name="江屿市委", kind=UnitKind.PARTY_COMMITTEE)
    bureau = UnitFactory(name="市教育局", kind=UnitKind.CITY_DEPARTMENT, parent=city)
    officer = UserFactory(username="jiaoyu", full_name="陈联络", unit=bureau, role=Role.OFFICER)
    supervisor = UserFactory(username="zgb", full_name="周整改", unit=city, supervisor=True)
    inspection = InspectionFactory(title="省委第三巡视组巡视江屿市委反馈意见整改",
                                   team="省委第三巡视组")
    problem = ProblemFactory(inspection=inspection, text="课后服务覆盖不均衡")
    task = TaskFactory(problem=problem, lead_unit=bureau, title="推动农村学校课后服务全覆盖",
                       status=TaskStatus.IN_PROGRESS)
    TaskFactory(problem=problem, lead_unit=bureau, title="已完成的任务",
                status=TaskStatus.COMPLETED)
    return {"inspection": inspection, "task": task, "officer": officer,
            "supervisor": supervisor}
