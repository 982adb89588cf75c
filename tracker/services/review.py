"""销号 and 退回 from the review queue: the rule that closing a task without evidence needs
an explicit confirmation, and the bulk actions, which run each ticked task through the same
service (and so the same permission check) as a single one.

Bulk actions go task by task: each task is closed or sent back in its own transaction, and a
task that is refused (out of the supervisor's scope, changed since the page was read, no
evidence and no confirmation …) is named with its reason while the others are still done.
One stale or foreign task must not hold back the rest of a review session."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from tracker import access
from tracker.errors import ActionForbidden, DomainError, InvalidInput
from tracker.models import Task, TaskAction, User
from tracker.services.tasks import DEFAULT_RECHECK, TRANSITIONS, task_close, task_send_back

NO_EVIDENCE_CONFIRMATION = "确认无佐证材料销号"
BULK_ACTIONS = {"close": TaskAction.CLOSE, "send_back": TaskAction.SEND_BACK}


def close_needs_confirmation(task: Task) -> bool:
    """Closing this task needs the explicit confirmation: it has no evidence file. Reads the
    prefetched evidence when the caller prefetched it (the review queue, the task page)."""
    if "evidence" in getattr(task, "_prefetched_objects_cache", {}):
        return not task.evidence.all()
    return not task.evidence.exists()


@transaction.atomic
def task_close_reviewed(
    *,
    task: Task,
    actor: User,
    note: str = "",
    confirm_no_evidence: bool = False,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    effectiveness: str = "",
    root_cause: str = "",
    recheck_on=DEFAULT_RECHECK,
    verdict_required: bool = False,
) -> Task:
    """销号 as a supervisor does it from the pages: like tracker.services.tasks.task_close, and
    a task without evidence only with `confirm_no_evidence`. The verdict, 原因分析 and
    回头看 date go to task_close (bulk 销号 passes none: blank verdict, default 回头看). The
    close forms of the task page, the review queue and the API pass `verdict_required`: there
    a verdict must be chosen (asked after who may close, like the confirmation)."""
    # Who may close is the transition's own rule; asked first so that someone who may not
    # close learns that, not that a box is missing.
    if not TRANSITIONS[TaskAction.CLOSE].may_act(actor, task):
        raise ActionForbidden(f"您没有权限对该任务执行“{TaskAction.CLOSE.label}”")
    # Only a task that may be closed now is asked for the confirmation: any other gets the
    # transition's own refusal (not submitted yet, already closed).
    may_close_now = task.status in TRANSITIONS[TaskAction.CLOSE].sources
    if may_close_now and verdict_required and not effectiveness:
        raise InvalidInput("请选择整改成效（有效、基本有效或无效）",
                           fields={"effectiveness": "请选择整改成效"})
    if may_close_now and not confirm_no_evidence and close_needs_confirmation(task):
        raise InvalidInput(
            f"该任务尚未上传佐证材料，须勾选“{NO_EVIDENCE_CONFIRMATION}”后方可销号",
            fields={"confirm_no_evidence": "无佐证材料销号须确认"},
        )
    return task_close(task=task, actor=actor, note=note, expected_version=expected_version,
                      now=now, effectiveness=effectiveness, root_cause=root_cause,
                      recheck_on=recheck_on)


@dataclass
class BulkOutcome:
    done: list[Task] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (which task, why)


def review_bulk(
    *,
    actor: User,
    action: str,
    task_ids: Iterable[int],
    versions: Mapping[int, int | None] | None = None,
    note: str = "",
    confirm_no_evidence: bool = False,
    now: dt.datetime | None = None,
) -> BulkOutcome:
    """批量销号 (`action` "close") or 批量退回 ("send_back") of the ticked tasks, in the
    order given. A task the actor cannot see is refused by its number only (its title is not
    theirs to read); any other refusal names the task by title."""
    if action not in BULK_ACTIONS:
        raise InvalidInput("请选择批量销号或批量退回")
    if TRANSITIONS[BULK_ACTIONS[action]].note_required and not note.strip():
        # Refused before any task is touched: the same reason would refuse every one.
        raise InvalidInput("批量退回须填写退回理由", fields={"note": "请填写退回理由"})
    now = now or timezone.now()
    versions = versions or {}
    ids = list(dict.fromkeys(task_ids))
    visible = Task.objects.filter(access.visible_tasks_q(actor), pk__in=ids).in_bulk()
    outcome = BulkOutcome()
    for pk in ids:
        task = visible.get(pk)
        if task is None:
            outcome.refused.append((f"第{pk}号任务", "任务不存在或您无权查看"))
            continue
        try:
            if action == "close":
                done = task_close_reviewed(
                    task=task, actor=actor, note=note, confirm_no_evidence=confirm_no_evidence,
                    expected_version=versions.get(pk), now=now,
                )
            else:
                done = task_send_back(task=task, actor=actor, note=note,
                                      expected_version=versions.get(pk), now=now)
        except DomainError as error:
            outcome.refused.append((f"“{task.title}”", error.message))
        else:
            outcome.done.append(done)
    return outcome
