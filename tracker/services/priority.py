"""重点任务 and priority (docs/priority.md): the one writer of a task's `is_key` and `priority`
after creation. Creation sets them through tracker.services.tasks.task_create."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite
from tracker.models import Task, TaskAction, TaskPriority, User
from tracker.services.history import record_event


def ensure_priority_valid(priority: object) -> TaskPriority:
    """The priority as a TaskPriority, or a clear refusal naming the allowed levels."""
    try:
        return TaskPriority(int(priority))
    except (TypeError, ValueError):
        levels = "、".join(f"{value}（{label}）" for value, label in TaskPriority.choices)
        raise InvalidInput(f"优先级无效，可选：{levels}",
                           fields={"priority": "无效的优先级"}) from None


@transaction.atomic
def task_set_priority(
    *,
    task: Task,
    actor: User,
    is_key: bool | None = None,
    priority: int | None = None,
    note: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Mark or unmark a task as 重点任务 and/or set its priority (None: leave as it is).

    Only a supervisor of the task's lead unit (tracker.access.may_set_priority). The row is
    locked, the version checked (StaleWrite when `expected_version` is not the current one),
    and one history row 调整优先级 records each changed value's from/to. Changing nothing
    writes nothing."""
    now = now or timezone.now()
    if actor is None or not access.may_set_priority(actor, task):
        raise ActionForbidden("只有牵头单位的督导人员可以调整重点任务和优先级")
    if priority is not None:
        priority = ensure_priority_valid(priority)
    current = Task.objects.select_for_update().get(pk=task.pk)
    if expected_version is not None and expected_version != current.version:
        raise StaleWrite(
            f"任务已被他人修改（您读取的是第{expected_version}版，当前为第{current.version}版），"
            "请刷新后再操作"
        )
    changes: dict = {}
    if is_key is not None and bool(is_key) != current.is_key:
        changes["is_key"] = bool(is_key)
    if priority is not None and priority != current.priority:
        changes["priority"] = int(priority)
    if not changes:
        task.refresh_from_db()
        return task
    rows = Task.objects.filter(pk=current.pk, version=current.version).update(
        **changes, version=F("version") + 1, updated_at=now
    )
    if rows != 1:  # pragma: no cover - the row is locked; kept as the house's guard
        raise StaleWrite()
    record_event(
        task=current, actor=actor, action=TaskAction.SET_PRIORITY, at=now,
        from_status=current.status, to_status=current.status, note=(note or "").strip(),
        data={field: {"from": getattr(current, field), "to": value}
              for field, value in changes.items()},
    )
    task.refresh_from_db()
    return task


def priority_change_text(data: dict) -> str:
    """A history row's from/to in words: “设为重点任务；优先级：一般 → 紧急”."""
    parts = []
    if "is_key" in data:
        parts.append("设为重点任务" if data["is_key"]["to"] else "取消重点任务")
    if "priority" in data:
        labels = dict(TaskPriority.choices)
        parts.append(f"优先级：{labels.get(data['priority']['from'], '')} → "
                     f"{labels.get(data['priority']['to'], '')}")
    return "；".join(parts)
