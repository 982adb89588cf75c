"""The rule book of access: who may see and do what, by unit and role.

One predicate per question. Pages, the API, the admin, services, rollups, exports and
notifications all call these; none of them restates a rule. (docs/architecture.md lists the
one place of every rule.)

- Officers (联络员) see tasks whose lead or supporting unit is their unit (or below it, when
  `covers_subunits` is set); they act for the lead unit and contribute as a supporting unit.
- Supervisors see every task touching the subtree of their supervision root (their own unit
  unless set otherwise), and manage (close, send back, reopen, edit, create, import) only the
  tasks *led* by a unit in that subtree: a supporting unit never makes a task theirs.
- Administrators see and do everything.

Every predicate is False for an inactive user.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Exists, OuterRef, Q
from django.utils.functional import LazyObject, empty

from tracker.models import (
    Inspection,
    Role,
    SupervisionNoticeItem,
    Task,
    Unit,
    User,
    subtree_q,
)

_NOTHING = Q(pk__in=[])


# --- Who the user is -----------------------------------------------------------------------


def as_instance(user: User) -> User:
    """The User behind `request.user`'s lazy proxy. Every attribute read through the proxy
    costs a few calls; a page that asks a rule once per row (a unit rollup asks
    `reaches_unit` for every unit) passes the instance instead."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def sees_everything(user: User) -> bool:
    """An administrator (role 系统管理员, or a Django superuser)."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.role == Role.ADMIN)
    )


def is_supervisor(user: User) -> bool:
    """A supervisor (督导人员) proper; administrators are not counted here."""
    return bool(user.is_authenticated and user.is_active and user.role == Role.SUPERVISOR)


def is_supervisor_or_admin(user: User) -> bool:
    """May use the supervision faces at all: review queue, dashboard, reports, the admin."""
    return sees_everything(user) or is_supervisor(user)


@dataclass(frozen=True)
class RoleGrants:
    """What a role gives an account in Django's own terms, whether or not it is active now
    (the predicates above answer for an active user): `staff` signs in to the admin site,
    `superuser` holds every permission, `supervisor_group` the supervisors' admin permissions
    (tracker.services.users.SUPERVISOR_PERMISSIONS)."""

    staff: bool
    superuser: bool
    supervisor_group: bool


def role_grants(role: str) -> RoleGrants:
    """The Django flags and group an account of `role` carries (set when it is saved)."""
    return RoleGrants(
        staff=role in (Role.SUPERVISOR, Role.ADMIN),
        superuser=role == Role.ADMIN,
        supervisor_group=role == Role.SUPERVISOR,
    )


def scope_unit(user: User) -> Unit | None:
    """The unit whose subtree bounds what the user sees; None means no unit bound (admin)."""
    if not user.is_authenticated:
        return None
    if user.role == Role.SUPERVISOR:
        return user.supervision_root or user.unit
    return user.unit


def is_top_supervisor(user: User) -> bool:
    """A supervisor whose scope is the root of the unit tree: sees the whole ledger."""
    scope = scope_unit(user)
    return is_supervisor(user) and scope is not None and scope.parent_id is None


def _reaches_subtree(user: User) -> bool:
    return user.role == Role.SUPERVISOR or bool(user.covers_subunits)


# --- Units ---------------------------------------------------------------------------------


def reachable_units_q(user: User) -> Q:
    """A Q over Unit: the units whose tasks the user sees (and may narrow a list or a rollup
    to). An administrator reaches every unit."""
    if sees_everything(user):
        return Q()
    unit = scope_unit(user)
    if unit is None or not user.is_active:
        return _NOTHING
    if _reaches_subtree(user):
        return subtree_q(unit)
    return Q(pk=unit.pk)


def reaches_unit(user: User, unit: Unit) -> bool:
    """Whether `unit` lies within the units the user sees (the Python twin of
    `reachable_units_q`, for one unit already loaded)."""
    if sees_everything(user):
        return True
    scope = scope_unit(user)
    if scope is None or not user.is_active:
        return False
    if _reaches_subtree(user):
        return unit.is_within(scope)
    return unit.pk == scope.pk


def managed_units_q(user: User) -> Q:
    """A Q over Unit: the units the user supervises (their tasks may be created, edited,
    closed, reopened by the user). Officers manage none."""
    if sees_everything(user):
        return Q()
    if not is_supervisor(user):
        return _NOTHING
    scope = scope_unit(user)
    return subtree_q(scope) if scope is not None else _NOTHING


def may_manage_unit(user: User, unit: Unit | None) -> bool:
    """A supervisor whose scope includes `unit` (or an administrator). `None` (an inspection
    aimed at no unit, a task without a lead unit yet) needs a top supervisor."""
    if sees_everything(user):
        return True
    if not is_supervisor(user):
        return False
    if unit is None:
        return is_top_supervisor(user)
    scope = scope_unit(user)
    return scope is not None and unit.is_within(scope)


# --- Tasks ---------------------------------------------------------------------------------


def visible_tasks_q(user: User) -> Q:
    """A Q over Task: lead unit or any supporting unit among the units the user reaches.

    EXISTS rather than a join, so the list has no duplicate rows and needs no DISTINCT.
    """
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    units = Unit.objects.filter(reachable_units_q(user))
    if _reaches_subtree(user):
        return _tasks_touching_q(units)
    # The same tasks, written for the planner: one unit's tasks are few, so they are read
    # through the lead-unit and supporting-unit indexes and then sorted, instead of walking a
    # list's order over the whole ledger and testing each row (at a million tasks, an
    # officer's last page: 3.3 s → 36 ms). A subtree's tasks are many: there the walk wins.
    led = Task.objects.filter(lead_unit__in=units).order_by().values("pk")
    supported = (
        Task.supporting_units.through.objects.filter(unit__in=units).order_by().values("task_id")
    )
    return Q(pk__in=led.union(supported))


def visible_tasks_key(user: User) -> tuple:
    """Everything visible_tasks_q(user) reads, as a hashable value: users with the same key
    get the same Q, so the same SQL and the same tasks (the API reuses its task list's compiled
    statement by it, tracker.statements; the 巡视巡察 filter's cached options are shared by
    it, tracker.selectors.inspection_choices_for_filter). Kept beside visible_tasks_q and
    written in the same branches: an input added there is an element added here
    (tests/tracker/api/test_list_statements.py compares the two over every kind of user)."""
    if not user.is_authenticated or not user.is_active:
        return ("nothing",)
    if sees_everything(user):
        return ("everything",)
    unit = scope_unit(user)
    where = None if unit is None else (unit.pk, unit.path)
    return ("subtree" if _reaches_subtree(user) else "unit", where)


def tasks_within_subtree_q(unit: Unit) -> Q:
    """A Q over Task: the tasks seen from `unit`'s subtree, as a supervisor over that unit
    sees them (lead unit or any supporting unit in it). Bounds an outbound webhook that is
    limited to a unit."""
    return _tasks_touching_q(Unit.objects.filter(subtree_q(unit)))


def _tasks_touching_q(units) -> Q:
    return Q(lead_unit__in=units) | _supported_by_q(units)


def _supported_by_q(units) -> Q:
    """A Q over Task: a supporting unit among `units` (EXISTS: no duplicate rows)."""
    supporting = Task.supporting_units.through.objects.filter(
        task_id=OuterRef("pk"), unit__in=units
    )
    return Q(Exists(supporting))


def managed_tasks_q(user: User) -> Q:
    """A Q over Task: the tasks the user supervises, decided by the lead unit alone."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    if not is_supervisor(user):
        return _NOTHING
    return Q(lead_unit__in=Unit.objects.filter(managed_units_q(user)))


def can_view_task(user: User, task: Task) -> bool:
    return Task.objects.filter(visible_tasks_q(user), pk=task.pk).exists()


def can_act_for_lead_unit(user: User, task: Task) -> bool:
    """Start, submit, request an extension: the lead unit's officer, or a supervisor over the
    lead unit."""
    if may_manage_unit(user, task.lead_unit):
        return True
    return user.role == Role.OFFICER and reaches_unit(user, task.lead_unit)


def may_acknowledge(user: User, task: Task) -> bool:
    """签收 a task's current assignment (docs/acknowledgement.md): an active officer of its
    lead unit (or of a unit above it, when `covers_subunits` is set) and nobody else. A
    supervisor or an administrator may not acknowledge for the unit: 签收 says the unit itself
    has received the task. The same people's 启动/填报进展/提交 records the 签收 implicitly."""
    return may_acknowledge_for_unit(user, task.lead_unit)


def may_acknowledge_for_unit(user: User, lead_unit: Unit) -> bool:
    """`may_acknowledge` for a task led by `lead_unit` (a list's row: the unit's id and path
    are enough)."""
    return may_acknowledge_any(user) and reaches_unit(user, lead_unit)


def may_acknowledge_any(user: User) -> bool:
    """Whether the user could acknowledge any task at all (`may_acknowledge` without the
    task): an active officer. The bulk 签收 refuses everyone else outright, and the task list
    offers its 批量签收 only to them."""
    if not user.is_authenticated or sees_everything(user) or not user.is_active:
        return False
    return user.role == Role.OFFICER


def can_contribute(user: User, task: Task) -> bool:
    """Report progress and upload evidence: anyone who sees the task (lead or supporting unit,
    or a supervisor over either)."""
    return can_view_task(user, task)


def tasks_contributed_to(user: User, task_ids: Iterable[int]) -> set[int]:
    """Which of these tasks `can_contribute` allows the user, in one query."""
    return set(
        Task.objects.filter(visible_tasks_q(user), pk__in=list(task_ids))
        .values_list("pk", flat=True)
    )


# Predicates over one task that have a twin deciding many tasks in one query.
FOR_MANY_TASKS: dict = {can_contribute: tasks_contributed_to}


def can_supervise(user: User, task: Task) -> bool:
    """Close, send back, mark, reopen, approve extensions, edit the task: a supervisor over its
    lead unit. A supervisor who only reaches a supporting unit sees the task but does not
    manage it."""
    return may_manage_unit(user, task.lead_unit)


def may_set_priority(user: User, task: Task) -> bool:
    """Mark a task 重点任务 or change its priority (docs/priority.md): a supervisor over its
    lead unit (`can_supervise`); never an officer."""
    return can_supervise(user, task)


def may_instruct(user: User, task: Task) -> bool:
    """Enter a 领导批示 on the task's thread (issue 15): a supervisor over its lead unit, the
    same people who supervise it (`can_supervise`). Anyone who sees the task may comment."""
    return can_supervise(user, task)


def may_comment(user: User, task: Task) -> bool:
    """Post an ordinary comment on the task's thread, or watch the task: anyone who sees it."""
    return can_view_task(user, task)


# --- Who supervises a task (who reviews it, who is told, who is escalated to) -------------


def _ancestry(unit: Unit) -> list[int]:
    """The ids of the unit's ancestors and itself (its materialised path)."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def _supervisors_scoped_in_q(unit_ids) -> Q:
    """Active supervisors whose scope (`scope_unit`) is one of these units: given a unit's
    ancestry (its path: its ancestors' ids and its own), those for whom
    `may_manage_unit(user, unit)` holds (administrators aside), by one indexed IN."""
    return Q(role=Role.SUPERVISOR, is_active=True) & (
        Q(supervision_root_id__in=unit_ids)
        | Q(supervision_root__isnull=True, unit_id__in=unit_ids)
    )


def nearest_supervisor_ids(covering: list[tuple[int, int]], level: int = 1) -> list[int]:
    """From (user id, depth of their scope) of the supervisors over one unit: level 1, the
    nearest ones (deepest scope: those responsible for the unit); level 2, the next ones up,
    or the nearest again when nobody is above them (the top supervisors are the last step)."""
    depths = sorted({depth for _, depth in covering}, reverse=True)
    if not depths:
        return []
    depth = depths[min(level - 1, len(depths) - 1)]
    return sorted(uid for uid, d in covering if d == depth)


def officers_of_units_q(unit_ids) -> Q:
    """A Q over User: the active officers (联络员) of these units, who are told of what
    happens to the units' tasks and chased on their deadlines."""
    return Q(unit_id__in=unit_ids, role=Role.OFFICER, is_active=True)


def officers_by_unit(unit_ids) -> dict[int, list[int]]:
    """{unit id: ids of its officers (`officers_of_units_q`)}, in one query, for units that
    have any."""
    grouped: dict[int, list[int]] = {}
    rows = User.objects.filter(officers_of_units_q(unit_ids)).order_by("pk")
    for pk, unit_id in rows.values_list("pk", "unit_id"):
        grouped.setdefault(unit_id, []).append(pk)
    return grouped


def supervisors_by_unit(units: Iterable[Unit], *, level: int = 1) -> dict[int, list[int]]:
    """{unit id: ids of `supervisors_of_task` for a task led by that unit}, for many units in
    one query (an Excel ledger's new tasks over many units)."""
    return {unit_id: [user.pk for user in users]
            for unit_id, users in _supervisors_over(list(units), level).items()}


def supervisors_of_task(task: Task, *, level: int = 1) -> list[User]:
    """The supervisors responsible for `task`: the nearest supervisors over its lead unit
    (level 1; level 2 the next ones up). Each of them `can_supervise(user, task)`. They are
    told when it is submitted, and the review deadline's reminders and escalation go to
    them."""
    return _supervisors_over([task.lead_unit], level)[task.lead_unit_id]


def _supervisors_over(units: list[Unit], level: int) -> dict[int, list[User]]:
    """For each unit, the nearest supervisors over it at `level` (`nearest_supervisor_ids`),
    all read in one query."""
    ancestry = {unit.pk: set(_ancestry(unit)) for unit in units}
    rows = list(
        User.objects.filter(_supervisors_scoped_in_q(set().union(*ancestry.values())))
        .select_related("unit", "supervision_root")
    )
    by_id = {user.pk: user for user in rows}
    scopes = [(user.pk, scope_unit(user)) for user in rows]
    return {
        unit.pk: [by_id[pk] for pk in nearest_supervisor_ids(
            [(pk, scope.depth) for pk, scope in scopes if scope.pk in ancestry[unit.pk]], level
        )]
        for unit in units
    }


# --- Inspections and problems --------------------------------------------------------------


def _seen_through_tasks_q(user: User, *, task_link: str, target_unit: str) -> Q:
    """Inspections and problems are seen through the tasks the user sees, and, by a
    supervisor, through the unit they are aimed at (a top supervisor sees them all)."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user) or is_top_supervisor(user):
        return Q()
    tasks = Task.objects.filter(visible_tasks_q(user), **{task_link: OuterRef("pk")})
    q = Q(Exists(tasks))
    if is_supervisor(user):
        q |= Q(**{f"{target_unit}__in": Unit.objects.filter(managed_units_q(user))})
    return q


def visible_inspections_q(user: User) -> Q:
    """A Q over Inspection: those with a task the user sees, plus, for a supervisor, those
    aimed at a unit in their scope."""
    return _seen_through_tasks_q(user, task_link="inspection_id", target_unit="target_unit")


def visible_problems_q(user: User) -> Q:
    """A Q over Problem: officers see the problems behind their tasks; supervisors also see
    every problem of an inspection aimed at their scope."""
    return _seen_through_tasks_q(
        user, task_link="problem_id", target_unit="inspection__target_unit"
    )


def can_edit_inspection(user: User, inspection) -> bool:
    """Edit an inspection or add problems to it: a supervisor over the unit it is aimed at."""
    return may_manage_unit(user, inspection.target_unit)


# --- Report documents ----------------------------------------------------------------------


def _reports_q(user: User, by_inspection: Q) -> Q:
    """Report documents are for supervisors: an administrator or a top supervisor has all;
    another supervisor those they imported, those imported by someone in their scope, and
    those whose inspection matches `by_inspection`."""
    if not is_supervisor_or_admin(user):
        return _NOTHING
    if sees_everything(user) or is_top_supervisor(user):
        return Q()
    managed = Unit.objects.filter(managed_units_q(user))
    return Q(imported_by=user) | Q(imported_by__unit__in=managed) | by_inspection


def visible_reports_q(user: User) -> Q:
    """A Q over reports.SourceReport: the reports the user reads, including those filed under
    any inspection they see."""
    return _reports_q(
        user, Q(inspection__in=Inspection.objects.filter(visible_inspections_q(user)))
    )


def managed_reports_q(user: User) -> Q:
    """A Q over reports.SourceReport: the reports whose figures and items the user may confirm
    or reject. Seeing a report is not enough: a supervisor who sees an inspection only through
    a supporting unit reads its reports but does not act on them; they act on those filed
    under an inspection aimed at a unit they manage."""
    return _reports_q(
        user, Q(inspection__target_unit__in=Unit.objects.filter(managed_units_q(user)))
    )


def may_manage_report(user: User, report) -> bool:
    """Confirm or reject a report's figures and items, edit its date or inspection."""
    if not is_supervisor_or_admin(user):
        return False
    # reports depends on tracker, never the reverse: the model is looked up by name.
    SourceReport = apps.get_model("reports", "SourceReport")
    return SourceReport.objects.filter(managed_reports_q(user), pk=report.pk).exists()


# --- Users ---------------------------------------------------------------------------------


def may_edit_units(user: User) -> bool:
    """Create, rename, move or delete units and set their group robots: the unit tree is
    master data, kept by administrators only (the API, the admin and the services agree)."""
    return sees_everything(user)


def may_manage_webhooks(user: User) -> bool:
    """Outbound webhooks (endpoints, their secrets and deliveries): administrators only."""
    return sees_everything(user)


def may_set_scoring_weights(user: User) -> bool:
    """Create, change or delete scoring schemes (考评权重): administrators only."""
    return sees_everything(user)


def may_view_scores(user: User) -> bool:
    """The unit ranking (考评排名) and the circular (情况通报): supervisors (their subtree, by
    `reachable_units_q`) and administrators. Officers do not see it: a ranking is a supervisory
    tool, and a rank within a unit's own scope means nothing."""
    return is_supervisor_or_admin(user)


def may_manage_users(user: User) -> bool:
    """Create users, change roles and passwords, see the user list: administrators only."""
    return sees_everything(user)


# --- Reminders and notifications -----------------------------------------------------------


def addressed_in_scope_q(user: User, prefix: str = "") -> Q:
    """A Q over a message with `recipient_user` / `recipient_unit` (Notification, Reminder;
    Delivery with prefix "notification__"): those addressed to the user, or to a person or the
    group of a unit the user supervises. An administrator: all."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    units = Unit.objects.filter(managed_units_q(user))
    return (
        Q(**{f"{prefix}recipient_user": user})
        | Q(**{f"{prefix}recipient_user__unit__in": units})
        | Q(**{f"{prefix}recipient_unit__in": units})
    )


# --- The two parts of the visible tasks (maintained counts are keyed by lead unit) ----------


def visible_by_lead_unit_q(user: User, *, lead_unit: str = "lead_unit") -> Q:
    """A Q over any model with a lead unit (Task, TaskTally): the rows whose lead unit is among
    the units the user reaches. With `visible_through_support_only_q` it partitions
    `visible_tasks_q`: every task the user sees is in exactly one of the two."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    return Q(**{f"{lead_unit}__in": Unit.objects.filter(reachable_units_q(user))})


def visible_through_support_only_q(user: User) -> Q:
    """A Q over Task: the tasks the user sees only as a supporting unit's (a supporting unit
    among the units they reach, the lead unit not). None for an administrator."""
    if not user.is_authenticated or not user.is_active or sees_everything(user):
        return _NOTHING
    units = Unit.objects.filter(reachable_units_q(user))
    return _supported_by_q(units) & ~Q(lead_unit__in=units)


# --- Supervision notices (督办单) ------------------------------------------------------------


def can_issue_notice(user: User, task: Task) -> bool:
    """Issue a supervision notice on a task: a supervisor over its lead unit (the one who
    may supervise it)."""
    return can_supervise(user, task)


def may_issue_notices(user: User) -> bool:
    """May open the notice form at all (a supervisor or an administrator)."""
    return is_supervisor_or_admin(user)


def can_reply_notice(user: User, task: Task) -> bool:
    """Answer a notice's part about a task: the lead unit's side (its officer, or a supervisor
    over the lead unit)."""
    return can_act_for_lead_unit(user, task)


def visible_notice_items_q(user: User, prefix: str = "") -> Q:
    """A Q over SupervisionNoticeItem (with `prefix`, e.g. "items__", over a relation to it):
    the parts about tasks the user sees. A unit sees its own part of a notice on several
    units' tasks, never another unit's task through the notice."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    return Q(**{f"{prefix}task__in": Task.objects.filter(visible_tasks_q(user))})


def visible_notices_q(user: User) -> Q:
    """A Q over SupervisionNotice: those with a part the user sees (by EXISTS: no duplicate
    rows)."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    items = SupervisionNoticeItem.objects.filter(
        visible_notice_items_q(user), notice_id=OuterRef("pk")
    )
    return Q(Exists(items))


# --- 回头看 (re-checks) -------------------------------------------------------------------------


def can_report_recheck(user: User, task: Task) -> bool:
    """Report a re-check (问题是否反弹): the lead unit's side (its officer, or a supervisor over
    the lead unit), as for the other things the lead unit answers."""
    return can_act_for_lead_unit(user, task)


def can_decide_recheck(user: User, task: Task) -> bool:
    """Confirm a reported re-check or find it failed (and so reopen the task): a supervisor over
    the task's lead unit, the one who closed it (`can_supervise`)."""
    return can_supervise(user, task)


def visible_rechecks_q(user: User, prefix: str = "") -> Q:
    """A Q over TaskRecheck: the re-checks of tasks the user sees."""
    if not user.is_authenticated or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    return Q(**{f"{prefix}task__in": Task.objects.filter(visible_tasks_q(user))})
