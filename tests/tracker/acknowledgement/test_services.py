"""签收 (acknowledgement), issue 15: who may acknowledge, once; what starts a new round; the
implicit 签收 by the lead unit's own first action (docs/acknowledgement.md)."""

import datetime as dt
import importlib

import pytest
from django.apps import apps

from tests.tracker.factories import ProblemFactory, TaskFactory, UserFactory
from tracker.errors import ActionForbidden, StaleWrite, TransitionNotAllowed
from tracker.models import Role, Task, TaskAction, TaskStatus
from tracker.services import tasks as svc

pytestmark = pytest.mark.django_db
S = TaskStatus


def _new_task(actor, unit, **kwargs):
    problem = ProblemFactory()
    return svc.task_create(problem=problem, actor=actor, title="规范公务接待", lead_unit=unit,
                           deadline=dt.date(2027, 6, 30), **kwargs)


def _actions(task) -> list[str]:
    return list(task.events.order_by("at", "id").values_list("action", flat=True))


def test_a_new_task_awaits_the_lead_unit_and_its_officer_acknowledges_it_once(town, bob, sam):
    task = _new_task(sam, town)
    assert task.awaiting_ack
    assert task.acknowledged_at is None
    version = task.version

    svc.task_acknowledge(task=task, actor=bob, note="已收到", expected_version=version)

    task.refresh_from_db()
    assert not task.awaiting_ack
    assert task.acknowledged_by == bob
    assert task.acknowledged_at is not None
    assert task.version == version + 1
    assert task.status == S.NOT_STARTED
    event = task.events.get(action=TaskAction.ACKNOWLEDGE)
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        bob, S.NOT_STARTED, S.NOT_STARTED, "已收到")

    with pytest.raises(TransitionNotAllowed, match="无需重复签收") as refused:
        svc.task_acknowledge(task=task, actor=bob)
    assert bob.display_name in refused.value.message
    assert task.events.filter(action=TaskAction.ACKNOWLEDGE).count() == 1


@pytest.mark.parametrize("who", ["sam", "chief", "root_admin", "alice", "supporter"])
def test_only_the_lead_units_officer_may_acknowledge(who, request, town, bureau, chief):
    """Supervisors over the unit and administrators may not acknowledge for it; neither may
    an officer of another unit, nor of a supporting unit."""
    supporter = UserFactory(username="fay", unit=bureau, role=Role.OFFICER)
    task = _new_task(chief, town, supporting_units=[bureau])
    actor = supporter if who == "supporter" else request.getfixturevalue(who)
    with pytest.raises(ActionForbidden, match="联络员"):
        svc.task_acknowledge(task=task, actor=actor)
    task.refresh_from_db()
    assert task.awaiting_ack
    assert "acknowledge" not in svc.allowed_actions(actor, task)


def test_a_stale_copy_is_refused(town, bob, sam):
    task = _new_task(sam, town)
    with pytest.raises(StaleWrite):
        svc.task_acknowledge(task=task, actor=bob, expected_version=task.version + 1)
    assert Task.objects.get(pk=task.pk).awaiting_ack


def test_sending_back_starts_a_new_round(town, bob, sam):
    task = _new_task(sam, town)
    svc.task_start(task=task, actor=bob)
    svc.task_submit(task=task, actor=bob)
    assert not task.awaiting_ack
    assert task.acknowledged_by == bob

    svc.task_send_back(task=task, actor=sam, note="佐证材料不全")

    task.refresh_from_db()
    assert task.awaiting_ack
    assert task.acknowledged_at is None
    assert task.acknowledged_by is None
    svc.task_acknowledge(task=task, actor=bob)
    assert task.events.filter(action=TaskAction.ACKNOWLEDGE).count() == 2


def test_a_new_lead_unit_must_acknowledge_but_other_edits_keep_the_acknowledgement(
    town, bureau, bob, alice, chief
):
    task = _new_task(chief, town)
    svc.task_acknowledge(task=task, actor=bob)
    task = svc.task_update(task=task, actor=chief, measures="细化措施")
    assert not task.awaiting_ack
    assert task.acknowledged_by == bob

    task = svc.task_update(task=task, actor=chief, lead_unit=bureau)

    assert task.awaiting_ack
    assert task.acknowledged_by is None
    with pytest.raises(ActionForbidden):
        svc.task_acknowledge(task=task, actor=bob)  # no longer the lead unit's officer
    svc.task_acknowledge(task=task, actor=alice)
    assert Task.objects.get(pk=task.pk).acknowledged_by == alice


def test_the_lead_officers_first_action_acknowledges_implicitly_and_only_once(town, bob, sam):
    task = _new_task(sam, town)
    svc.task_start(task=task, actor=bob)
    svc.task_report_progress(task=task, actor=bob, note="已召开专题会")

    assert not task.awaiting_ack
    assert task.acknowledged_by == bob
    assert _actions(task) == ["create", "acknowledge", "start", "progress"]
    implicit = task.events.get(action=TaskAction.ACKNOWLEDGE)
    assert implicit.data == {"implicit": "start"}
    assert "启动整改" in implicit.note


def test_a_supervisors_or_supporting_units_action_does_not_acknowledge(
    town, bureau, sam, chief
):
    supporter = UserFactory(username="fay", unit=bureau, role=Role.OFFICER)
    task = _new_task(chief, town, supporting_units=[bureau])
    svc.task_start(task=task, actor=sam)
    svc.task_report_progress(task=task, actor=supporter, note="配合单位已提供材料")
    task.refresh_from_db()
    assert task.awaiting_ack
    assert "acknowledge" not in _actions(task)


def test_tasks_existing_before_the_migration_count_as_acknowledged(town):
    """The data migration (0021): an old ledger does not start reminding."""
    old = TaskFactory(lead_unit=town)
    waiting = TaskFactory(lead_unit=town, ack_requested_at=old.created_at)
    migration = importlib.import_module("tracker.migrations.0021_task_acknowledgement")

    migration.acknowledge_existing_tasks(apps, None)

    old.refresh_from_db()
    waiting.refresh_from_db()
    assert old.acknowledged_at == old.created_at
    assert not old.awaiting_ack
    assert waiting.awaiting_ack
    assert waiting.acknowledged_at is None
