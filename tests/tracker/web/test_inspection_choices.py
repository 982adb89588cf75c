"""The 巡视巡察 filter's options (tracker.selectors.inspection_choices_for_filter): read once
per set of visible tasks (access.visible_tasks_key), then from the cache until a service changes
what decides them; always the inspections with a task the reader sees."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory, UserFactory
from tests.tracker.web.conftest import logged_in
from tracker import access
from tracker.models import Role
from tracker.services import inspections as inspection_services
from tracker.services import tasks as task_services
from tracker.services import units as unit_services
from tracker.web.forms import TaskFilterForm

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]*)</option>')


def filter_options(client, path="/tasks/") -> tuple[list[str], int]:
    """The filter's inspection titles on the page, and how many statements read them."""
    with CaptureQueriesContext(connection) as queries:
        html = client.get(path).content.decode()
    select = re.search(r'<select name="inspection".*?</select>', html, re.S).group(0)
    reads = [q for q in queries.captured_queries
             if q["sql"].startswith('SELECT "tracker_inspection"."id" AS "pk", '
                                    '"tracker_inspection"."title" AS "title" FROM')]
    return [title for _, title in OPTION.findall(select)], len(reads)


def task_in(inspection_title, unit):
    inspection = InspectionFactory(title=inspection_title)
    return TaskFactory(lead_unit=unit, problem=ProblemFactory(inspection=inspection))


def test_read_once_then_shared_by_everyone_who_sees_the_same_tasks(alice, bob, bureau, town):
    task_in("教育局的巡察", bureau)
    task_in("街道的巡察", town)
    colleague = UserFactory(unit=bureau, role=Role.OFFICER)
    assert access.visible_tasks_key(colleague) == access.visible_tasks_key(alice)

    assert filter_options(logged_in(alice)) == (["教育局的巡察"], 1)
    assert filter_options(logged_in(alice)) == (["教育局的巡察"], 0)
    assert filter_options(logged_in(colleague)) == (["教育局的巡察"], 0)
    # Another unit's reader has their own options, read for them.
    assert filter_options(logged_in(bob)) == (["街道的巡察"], 1)


def test_the_ledger_page_and_the_dashboard_share_the_options(chief, bureau):
    task_in("教育局的巡察", bureau)
    client = logged_in(chief)
    assert filter_options(client, "/ledger/") == (["教育局的巡察"], 1)
    assert filter_options(client, "/tasks/") == (["教育局的巡察"], 0)
    assert filter_options(client, "/dashboard/") == (["教育局的巡察"], 0)


def test_a_task_created_under_another_inspection_is_offered_at_once(alice, chief, bureau):
    task_in("第一轮巡察", bureau)
    client = logged_in(alice)
    assert filter_options(client)[0] == ["第一轮巡察"]
    second = InspectionFactory(title="第二轮巡察")
    task_services.task_create(problem=ProblemFactory(inspection=second), actor=chief,
                              title="新任务", lead_unit=bureau, deadline=None,
                              task_type="long_term")
    titles, reads = filter_options(client)
    assert sorted(titles) == ["第一轮巡察", "第二轮巡察"]
    assert reads == 1


def test_a_task_handed_to_another_unit_moves_its_inspection_between_the_filters(
    alice, bob, chief, bureau, town
):
    task = task_in("只有一个任务的巡察", bureau)
    alice_client, bob_client = logged_in(alice), logged_in(bob)
    assert filter_options(alice_client)[0] == ["只有一个任务的巡察"]
    assert filter_options(bob_client)[0] == []
    task_services.task_update(task=task, actor=chief, lead_unit=town)
    assert filter_options(alice_client)[0] == []
    assert filter_options(bob_client)[0] == ["只有一个任务的巡察"]


def test_a_supporting_unit_added_offers_the_inspection_to_that_unit(alice, bob, chief, bureau,
                                                                     town):
    task = task_in("配合单位的巡察", bureau)
    bob_client = logged_in(bob)
    assert filter_options(bob_client)[0] == []
    task_services.task_update(task=task, actor=chief, supporting_units=[town])
    assert filter_options(bob_client)[0] == ["配合单位的巡察"]


def test_a_renamed_inspection_shows_its_new_title(alice, chief, bureau):
    task = task_in("旧名称", bureau)
    client = logged_in(alice)
    assert filter_options(client)[0] == ["旧名称"]
    inspection_services.inspection_update(inspection=task.inspection, actor=chief,
                                          title="新名称")
    assert filter_options(client)[0] == ["新名称"]


def test_a_unit_moved_out_of_a_subtree_takes_its_inspections_along(sam, county, town, city):
    task_in("街道的巡察", town)
    client = logged_in(sam)
    assert filter_options(client)[0] == ["街道的巡察"]
    unit_services.unit_move(unit=town, new_parent=city)
    assert filter_options(client)[0] == []


def test_only_an_offered_inspection_may_be_chosen(alice, bureau, town):
    mine = task_in("教育局的巡察", bureau)
    other = task_in("街道的巡察", town)
    choices = [(mine.inspection_id, "教育局的巡察")]
    chosen = TaskFilterForm({"inspection": mine.inspection_id}, inspection_choices=choices)
    assert chosen.is_valid()
    assert chosen.cleaned_data["inspection"] == mine.inspection
    refused = TaskFilterForm({"inspection": other.inspection_id}, inspection_choices=choices)
    assert not refused.is_valid()
    assert "inspection" in refused.errors


def test_filtering_by_another_units_inspection_shows_nothing_of_theirs(alice, bureau, town):
    mine = task_in("教育局的巡察", bureau)
    other = task_in("街道的巡察", town)
    html = logged_in(alice).get(f"/tasks/?inspection={other.inspection_id}").content.decode()
    assert mine.title in html
    assert other.title not in html
    own = logged_in(alice).get(f"/tasks/?inspection={mine.inspection_id}").content.decode()
    assert mine.title in own
