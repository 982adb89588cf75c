"""Issue 15, Priority: 重点任务 and the priority level are set at creation or by a supervisor
of the lead unit through one service, with a history row carrying from/to; officers, other
supervisors and stale copies are refused and change nothing."""

import datetime as dt

import pytest

from tests.tracker.factories import ProblemFactory, TaskFactory
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite
from tracker.models import Task, TaskAction, TaskEvent, TaskPriority
from tracker.services.priority import priority_change_text, task_set_priority
from tracker.services.tasks import allowed_actions, task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_task(town):
    return TaskFactory(lead_unit=town)


def _state(task):
    return Task.objects.values_list("is_key", "priority", "version").get(pk=task.pk)


def test_a_supervisor_of_the_lead_unit_marks_a_key_task_with_one_history_row(sam, town_task):
    version = town_task.version
    task = task_set_priority(task=town_task, actor=sam, is_key=True,
                             priority=TaskPriority.URGENT, note="挂牌督办",
                             expected_version=version)
    assert (task.is_key, task.priority, task.version) == (True, TaskPriority.URGENT, version + 1)
    event = TaskEvent.objects.get(task=task, action=TaskAction.SET_PRIORITY)
    assert event.actor == sam
    assert event.from_status == event.to_status == task.status
    assert event.note == "挂牌督办"
    assert event.data == {"is_key": {"from": False, "to": True},
                          "priority": {"from": 1, "to": 4}}
    assert priority_change_text(event.data) == "设为重点任务；优先级：一般 → 紧急"


def test_changing_only_the_priority_records_only_the_priority(chief, town_task):
    task_set_priority(task=town_task, actor=chief, priority=TaskPriority.HIGH)
    event = TaskEvent.objects.get(task=town_task, action=TaskAction.SET_PRIORITY)
    assert event.data == {"priority": {"from": 1, "to": 3}}
    assert not Task.objects.get(pk=town_task.pk).is_key


def test_setting_what_is_already_set_writes_nothing(sam, town_task):
    before = _state(town_task)
    task_set_priority(task=town_task, actor=sam, is_key=False, priority=TaskPriority.NORMAL)
    assert _state(town_task) == before
    assert not TaskEvent.objects.filter(action=TaskAction.SET_PRIORITY).exists()


@pytest.mark.parametrize("who", ["bob", "alice", "sue"])
def test_officers_and_supervisors_of_other_units_are_refused(who, request, town_task):
    """bob is the lead unit's own officer; alice an officer elsewhere; sue a supervisor over
    another unit. None may set it, and nothing changes."""
    actor = request.getfixturevalue(who)
    before = _state(town_task)
    with pytest.raises(ActionForbidden):
        task_set_priority(task=town_task, actor=actor, is_key=True)
    assert _state(town_task) == before
    assert "set_priority" not in allowed_actions(actor, town_task)
    assert not TaskEvent.objects.filter(action=TaskAction.SET_PRIORITY).exists()


def test_a_supervisor_who_only_reaches_a_supporting_unit_is_refused(sue, town, bureau):
    task = TaskFactory(lead_unit=town, supporting_units=[bureau])
    with pytest.raises(ActionForbidden):
        task_set_priority(task=task, actor=sue, is_key=True)
    assert not Task.objects.get(pk=task.pk).is_key


def test_a_stale_copy_is_refused_and_changes_nothing(sam, chief, town_task):
    read = Task.objects.get(pk=town_task.pk)
    task_set_priority(task=town_task, actor=chief, priority=TaskPriority.HIGH)
    with pytest.raises(StaleWrite) as info:
        task_set_priority(task=read, actor=sam, is_key=True, expected_version=read.version)
    assert "请刷新后再操作" in info.value.message
    assert _state(town_task)[:2] == (False, TaskPriority.HIGH)
    assert TaskEvent.objects.filter(action=TaskAction.SET_PRIORITY).count() == 1


@pytest.mark.parametrize("bad", [0, 5, "紧急", None])
def test_an_unknown_priority_is_refused_in_chinese(sam, town_task, bad):
    if bad is None:
        # None means "leave it": nothing to do and nothing refused.
        task_set_priority(task=town_task, actor=sam, priority=None)
        return
    with pytest.raises(InvalidInput) as info:
        task_set_priority(task=town_task, actor=sam, priority=bad)
    assert "优先级无效" in info.value.message
    assert "紧急" in info.value.message
    assert info.value.fields == {"priority": "无效的优先级"}


def test_creation_may_set_both_and_records_them_on_the_creation_row(sam, town):
    problem = ProblemFactory()
    task = task_create(problem=problem, actor=sam, title="专项整治", lead_unit=town,
                       deadline=dt.date.today() + dt.timedelta(days=30), is_key=True,
                       priority=TaskPriority.HIGH)
    assert (task.is_key, task.priority) == (True, TaskPriority.HIGH)
    created = TaskEvent.objects.get(task=task, action=TaskAction.CREATE)
    assert created.data == {"is_key": True, "priority": 3}
    plain = task_create(problem=problem, actor=sam, title="一般任务", lead_unit=town,
                        deadline=dt.date.today() + dt.timedelta(days=30))
    assert (plain.is_key, plain.priority) == (False, TaskPriority.NORMAL)
    assert TaskEvent.objects.get(task=plain, action=TaskAction.CREATE).data == {}
    with pytest.raises(InvalidInput):
        task_create(problem=problem, actor=sam, title="坏", lead_unit=town,
                    deadline=dt.date.today() + dt.timedelta(days=30), priority=9)
