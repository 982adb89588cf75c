"""Who may see and do what, by unit and role. One place, used by services and the API.

- Officers (联络员) see tasks whose lead or supporting unit is their unit (or below it, when
  `covers_subunits` is set); they act for the lead unit and contribute as a supporting unit.
- Supervisors see and supervise every task touching the subtree of their supervision root
  (their own unit unless set otherwise); a supervisor at the root of the tree sees all.
- Administrators see and do everything.
"""

from django.db.models import Exists, OuterRef, Q

from tracker.models import Role, Task, Unit, User


def scope_unit(user: User) -> Unit | None:
    """The unit whose subtree bounds what the user sees; None means no unit bound (admin)."""
    if user.role == Role.SUPERVISOR:
        return user.supervision_root or user.unit
    return user.unit


def sees_everything(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMIN)


def _unit_q(user: User) -> Q:
    """A Q over Unit matching the units whose tasks the user sees."""
    unit = scope_unit(user)
    if unit is None:
        return Q(pk__in=[])
    if user.role == Role.SUPERVISOR or user.covers_subunits:
        return Q(path__startswith=unit.path)
    return Q(pk=unit.pk)


def visible_tasks_q(user: User) -> Q:
    """A Q over Task: lead unit or any supporting unit in the user's units.

    EXISTS rather than a join, so the list has no duplicate rows and needs no DISTINCT.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    units = Unit.objects.filter(_unit_q(user))
    supporting = Task.supporting_units.through.objects.filter(
        task_id=OuterRef("pk"), unit__in=units
    )
    return Q(lead_unit__in=units) | Q(Exists(supporting))


def can_view_task(user: User, task: Task) -> bool:
    return Task.objects.filter(visible_tasks_q(user), pk=task.pk).exists()


def can_act_for_lead_unit(user: User, task: Task) -> bool:
    """Start, submit, request an extension: the lead unit's officer, or a supervisor over it."""
    if sees_everything(user):
        return True
    unit = scope_unit(user)
    if unit is None or not user.is_active:
        return False
    if user.role == Role.SUPERVISOR or user.covers_subunits:
        return task.lead_unit.is_within(unit)
    return task.lead_unit_id == unit.pk


def can_contribute(user: User, task: Task) -> bool:
    """Report progress and upload evidence: anyone who sees the task (lead or supporting unit,
    or a supervisor over either)."""
    return can_view_task(user, task)


def can_supervise(user: User, task: Task) -> bool:
    """Close, send back, mark, reopen, approve extensions, edit the task."""
    if sees_everything(user):
        return True
    return user.role == Role.SUPERVISOR and user.is_active and can_view_task(user, task)
