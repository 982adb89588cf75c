"""Issue #11, part 4: search on the task list (title, unit, problem text) through the `q`
filter of the one TaskFilter, so the page and the API mean the same; saved filters, each
person's own; a percent shown only where a progress report gave one."""

import re

import pytest

from tests.tracker.factories import ProblemFactory, TaskFactory, UnitFactory
from tests.tracker.web.conftest import logged_in
from tracker.models import SavedFilter, TaskStatus
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db


def titles(html: str) -> set[str]:
    return set(re.findall(r'class="task-title" href="[^"]+">([^<]+)</a>', html))


@pytest.fixture
def searchable(bureau, county, town):
    """Tasks a top supervisor sees, each findable by one thing only."""
    return {
        "by_title": TaskFactory(lead_unit=bureau, title="规范课后服务收费"),
        "by_lead_unit": TaskFactory(lead_unit=town, title="推行财务公开"),
        "by_supporting_unit": TaskFactory(
            lead_unit=bureau, title="联合整治校外培训",
            supporting_units=[UnitFactory(name="市市场监管局", parent=bureau.parent)],
        ),
        "by_problem": TaskFactory(lead_unit=bureau, title="建立长效机制",
                                  problem=ProblemFactory(text="食堂采购程序不规范")),
        "other": TaskFactory(lead_unit=county, title="其他任务"),
    }


@pytest.mark.parametrize(("words", "expected"), [
    ("课后服务", {"规范课后服务收费"}),
    ("湖滨街道", {"推行财务公开"}),
    ("市场监管", {"联合整治校外培训"}),
    ("食堂采购", {"建立长效机制"}),
    ("规范 收费", {"规范课后服务收费"}),  # every word must match
    ("规范 财务", set()),
])
def test_the_task_list_searches_title_unit_and_problem(chief_client, searchable, words,
                                                       expected):
    html = chief_client.get("/tasks/", {"q": words}).content.decode()
    assert titles(html) == expected


def test_the_api_shares_the_same_q_filter(client_for, chief, searchable):
    for words, expected in [("湖滨街道", {"推行财务公开"}), ("食堂采购", {"建立长效机制"}),
                            ("市场监管", {"联合整治校外培训"})]:
        body = client_for(chief).get("/api/v1/tasks/", {"q": words}).json()
        assert {task["title"] for task in body["results"]} == expected


def test_search_stays_inside_the_readers_scope(alice_client, searchable):
    # alice (the bureau's officer) searching for the township finds nothing of the township.
    html = alice_client.get("/tasks/", {"q": "推行财务"}).content.decode()
    assert titles(html) == set()


def test_a_search_too_long_is_refused_clearly_in_the_api(client_for, chief):
    response = client_for(chief).get("/api/v1/tasks/", {"q": "长" * 101})
    assert response.status_code == 400
    assert "不超过 100 字符" in response.json()["fields"]["q"][0]


# --- Saved filters ---------------------------------------------------------------------------


def test_a_user_saves_the_current_query_lists_applies_and_deletes_it(chief, searchable):
    client = logged_in(chief)
    response = client.post("/tasks/saved-filters/", {
        "name": "课后服务", "query": "q=%E8%AF%BE%E5%90%8E%E6%9C%8D%E5%8A%A1&page=3",
    })
    saved = SavedFilter.objects.get(user=chief)
    assert saved.query == "q=%E8%AF%BE%E5%90%8E%E6%9C%8D%E5%8A%A1"  # the page is not kept
    assert response["Location"] == f"/tasks/?{saved.query}"
    html = client.get("/tasks/").content.decode()
    assert f'href="/tasks/?{saved.query}">课后服务</a>' in html
    assert titles(client.get(f"/tasks/?{saved.query}").content.decode()) == {"规范课后服务收费"}

    client.post(f"/tasks/saved-filters/{saved.pk}/delete/")
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_saving_under_a_name_already_used_replaces_its_query(chief):
    client = logged_in(chief)
    client.post("/tasks/saved-filters/", {"name": "逾期", "query": "status=overdue"})
    client.post("/tasks/saved-filters/", {"name": "逾期", "query": "status=overdue&q=%E5%B8%82"})
    assert list(SavedFilter.objects.filter(user=chief).values_list("query", flat=True)) == [
        "q=%E5%B8%82&status=overdue"
    ]


def test_a_saved_filter_needs_a_name(chief):
    client = logged_in(chief)
    client.post("/tasks/saved-filters/", {"name": " ", "query": "status=overdue"})
    assert not SavedFilter.objects.exists()
    assert "请给常用筛选起个名称" in client.get("/tasks/").content.decode()


def test_saved_filters_belong_to_their_owner(alice, chief):
    mine = SavedFilter.objects.create(user=chief, name="督导的筛选", query="status=overdue")
    alice_client = logged_in(alice)
    assert "督导的筛选" not in alice_client.get("/tasks/").content.decode()
    assert alice_client.post(f"/tasks/saved-filters/{mine.pk}/delete/").status_code == 404
    assert SavedFilter.objects.filter(pk=mine.pk).exists()


def test_a_saved_filter_cannot_widen_what_its_owner_sees(alice, searchable, town):
    """Only a query string is kept: applied, it goes through the reader's scope again."""
    client = logged_in(alice)
    client.post("/tasks/saved-filters/", {"name": "街道", "query": f"lead_unit={town.pk}"})
    saved = SavedFilter.objects.get(user=alice)
    assert titles(client.get(f"/tasks/?{saved.query}").content.decode()) == set()


# --- A percent only where one was reported ---------------------------------------------------


def test_a_percent_is_shown_only_where_a_progress_report_gave_one(alice, alice_client, bureau):
    reported = TaskFactory(lead_unit=bureau, title="报过进度", status=TaskStatus.IN_PROGRESS)
    task_services.task_report_progress(task=reported, actor=alice, note="过半", percent=60)
    without_percent = TaskFactory(lead_unit=bureau, title="只报了文字",
                                  status=TaskStatus.IN_PROGRESS)
    task_services.task_report_progress(task=without_percent, actor=alice, note="已开展")
    never = TaskFactory(lead_unit=bureau, title="从未填报")

    html = alice_client.get("/tasks/").content.decode()
    percents = re.findall(r'<span class="percent">(\d+)%</span>', html)
    assert percents == ["60"]
    assert ">0%" not in html

    page = alice_client.get(f"/tasks/{reported.pk}/").content.decode()
    assert 'aria-valuenow="60"' in page
    for task in (without_percent, never):
        page = alice_client.get(f"/tasks/{task.pk}/").content.decode()
        assert "尚未填报完成进度" in page
        assert "progress-bar" not in page


def test_a_reported_zero_is_still_shown(alice, alice_client, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS)
    task_services.task_report_progress(task=task, actor=alice, note="刚开始", percent=0)
    html = alice_client.get("/tasks/").content.decode()
    assert re.findall(r'<span class="percent">(\d+)%</span>', html) == ["0"]
