"""我的任务 keeps what does not change between views (docs/performance.md): the compiled list
and count statements of an unfiltered list per visibility key (tracker.statements), the
rendered filter bar per options and values (TaskFilterForm.filter_bar), the navigation's
addresses per URLconf and script prefix. What the page shows is read anew every time."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import set_script_prefix

from tests.tracker.factories import (
    InspectionFactory,
    NotificationFactory,
    SavedFilterFactory,
    TaskFactory,
)
from tracker import statements
from tracker.selectors import inspection_choices_changed, inspection_choices_for_filter
from tracker.web import forms as web_forms
from tracker.web import selectors as web_selectors
from tracker.web.forms import FILTER_BAR_TEMPLATE, TaskFilterForm

from .conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept():
    statements.statements.clear()
    web_forms._filter_bars.clear()
    yield
    statements.statements.clear()
    web_forms._filter_bars.clear()


@pytest.fixture
def builds(monkeypatch):
    """Each build of 我的任务's queryset (the rows' and the count's)."""
    built = []
    original = web_selectors.task_list_for_page
    monkeypatch.setattr(web_selectors, "task_list_for_page",
                        lambda **kwargs: built.append(kwargs) or original(**kwargs))
    return built


def _titles(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'class="task-title" href="[^"]+">([^<]+)</a>',
                      response.content.decode())


def _count_line(response) -> str:
    return re.search(r'id="task-count">([^。]+)。', response.content.decode()).group(1)


def test_an_unfiltered_list_compiles_its_statements_once_per_scope(builds, sam, bob, town):
    TaskFactory(lead_unit=town, title="整治河道")
    client = logged_in(sam)
    assert _titles(client.get("/tasks/")) == ["整治河道"]
    assert len(builds) == 2  # the rows and the count
    assert _titles(client.get("/tasks/")) == ["整治河道"]
    assert _titles(client.get("/tasks/?page=1")) == ["整治河道"]
    assert len(builds) == 2
    assert _titles(logged_in(bob).get("/tasks/")) == ["整治河道"]  # another scope
    assert len(builds) == 4


def test_a_filtered_list_builds_its_query_each_time(builds, sam, town):
    TaskFactory(lead_unit=town, title="整治河道")
    TaskFactory(lead_unit=town, title="清理违建")
    client = logged_in(sam)
    for _ in range(2):
        assert _titles(client.get("/tasks/?q=河道")) == ["整治河道"]
    assert len(builds) == 4
    assert statements.statements.items == {}


def test_a_kept_statement_reads_the_ledger_as_it_is_now(sam, town, bureau, city):
    first = TaskFactory(lead_unit=town, title="整治河道")
    client = logged_in(sam)
    client.get("/tasks/")
    second = TaskFactory(lead_unit=town, title="清理违建")
    TaskFactory(lead_unit=city, title="市里的任务")  # out of sam's scope
    second.supporting_units.add(bureau)
    response = client.get("/tasks/")
    assert sorted(_titles(response)) == sorted([first.title, second.title])
    assert _count_line(response) == "共2项"
    assert "配合：市教育局" in response.content.decode()


def test_the_kept_count_stops_past_the_window_as_the_built_one(sam, town, monkeypatch):
    """Three pages' worth counted up to one page past page 1: "至少", then exact once the
    window reaches the end (the count's LIMIT is a step of the kept statement's key)."""
    monkeypatch.setattr("tracker.web.pagination.PAGES_AHEAD", 1)
    monkeypatch.setattr("tracker.web.views.PAGE_SIZE", 2)
    for n in range(5):
        TaskFactory(lead_unit=town, title=f"任务{n}")
    client = logged_in(sam)
    assert _count_line(client.get("/tasks/")) == "至少5项"
    assert _count_line(client.get("/tasks/?page=2")) == "共5项"
    assert len(_titles(client.get("/tasks/?page=3"))) == 1


def test_the_filter_bar_is_the_forms_own_rendering(sam, town):
    TaskFactory(lead_unit=town, inspection=InspectionFactory(title="第一轮巡察"))

    def form(data=None):
        return TaskFilterForm(data, inspection_choices=inspection_choices_for_filter(user=sam))

    for data in (None, {"page": "2"}, {"status": "overdue", "q": "河道"}):
        kept = form(data).filter_bar()
        assert form(data).filter_bar() == kept
        assert kept == render_to_string(FILTER_BAR_TEMPLATE, {"form": form(data)})
    assert 'value="河道"' in form({"q": "河道"}).filter_bar()
    assert "第一轮巡察" in form().filter_bar()


def test_the_filter_bar_follows_its_options(sam, town):
    TaskFactory(lead_unit=town, inspection=InspectionFactory(title="第一轮巡察"))
    client = logged_in(sam)
    assert "第二轮巡察" not in client.get("/tasks/").content.decode()
    TaskFactory(lead_unit=town, inspection=InspectionFactory(title="第二轮巡察"))
    inspection_choices_changed()
    assert "第二轮巡察" in client.get("/tasks/").content.decode()


def test_a_filter_bar_with_errors_is_rendered_each_time_and_not_kept(sam):
    choices = inspection_choices_for_filter(user=sam)
    bad = TaskFilterForm({"priority": "9"}, inspection_choices=choices)
    assert "invalid-feedback" in bad.filter_bar()
    assert web_forms._filter_bars == {}
    TaskFilterForm({"priority": "3"}, inspection_choices=choices).filter_bar()
    assert len(web_forms._filter_bars) == 1


def test_the_navigation_follows_the_script_prefix(sam):
    """Behind a proxy at /zhenggai/ (the WSGI handler sets the prefix per request; the test
    client does not, so the test sets it)."""
    client = logged_in(sam)
    nav = re.compile(r'class="nav-link[^"]*" href="([^"]+)">任务列表')
    assert nav.search(client.get("/tasks/").content.decode()).group(1) == "/tasks/"
    set_script_prefix("/zhenggai/")
    try:
        shown = nav.search(client.get("/tasks/").content.decode()).group(1)
    finally:
        set_script_prefix("/")
    assert shown == "/zhenggai/tasks/"
    assert nav.search(client.get("/tasks/").content.decode()).group(1) == "/tasks/"


def test_each_reader_sees_their_own_saved_filters_and_unread_count_as_they_are_now(
    alice, bob
):
    """Compiled once per user (tracker.statements.user_statements), read anew each view."""
    SavedFilterFactory(user=alice, name="甲的筛选", query="status=overdue")
    SavedFilterFactory(user=bob, name="乙的筛选")
    note = NotificationFactory(recipient_user=alice)
    alice_client, bob_client = logged_in(alice), logged_in(bob)
    for _ in range(2):
        alice_page = alice_client.get("/tasks/").content.decode()
        bob_page = bob_client.get("/tasks/").content.decode()
        assert "甲的筛选" in alice_page
        assert "乙的筛选" not in alice_page
        assert "乙的筛选" in bob_page
        assert "甲的筛选" not in bob_page
        assert 'href="/tasks/?status=overdue"' in alice_page
        assert "消息（1）" in alice_page
        assert "消息（" not in bob_page
    SavedFilterFactory(user=alice, name="丙的筛选")
    note.delete()
    alice_page = alice_client.get("/tasks/").content.decode()
    assert "丙的筛选" in alice_page
    assert "消息（" not in alice_page
