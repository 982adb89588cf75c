import datetime as dt
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from tracker import access
from tracker.deadlines import ensure_deadline_in_bounds
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import Inspection, InspectionKind, InspectionMode, Problem, Unit, User
from tracker.selectors import inspection_choices_changed
from tracker.services.audit import (
    AuditAction,
    audit_diff,
    audit_entry,
    audit_record,
    audit_record_batch,
    audit_snapshot,
)


@transaction.atomic
def inspection_create(
    *,
    title: str,
    kind: InspectionKind,
    target: str,
    feedback_date: dt.date,
    team: str = "",
    mode: InspectionMode = InspectionMode.REGULAR,
    target_unit: Unit | None = None,
    rectification_deadline: dt.date | None = None,
    actor: User | None = None,
) -> Inspection:
    """Create an inspection. `actor` None is the system (demo data, imports)."""
    _ensure_covers(actor, target_unit)
    ensure_deadline_in_bounds(rectification_deadline, today=timezone.localdate(),
                              field="rectification_deadline", label="整改时限")
    inspection = Inspection(
        title=title, kind=kind, mode=mode, team=team, target=target, target_unit=target_unit,
        feedback_date=feedback_date, rectification_deadline=rectification_deadline,
    )
    _validated_save(inspection)
    audit_record(actor=actor, action=AuditAction.INSPECTION_CREATE, target=inspection,
                 changes=audit_diff({}, audit_snapshot(inspection, INSPECTION_EDITABLE_FIELDS)))
    return inspection


@transaction.atomic
def problem_create(
    *, inspection: Inspection, number: int, text: str, aspect: str = "",
    actor: User | None = None,
) -> Problem:
    _ensure_covers(actor, inspection.target_unit)
    problem = Problem(inspection=inspection, number=number, text=text, aspect=aspect)
    _validated_save(problem)
    audit_record(actor=actor, action=AuditAction.PROBLEM_CREATE, target=problem,
                 changes=audit_diff({}, audit_snapshot(problem, PROBLEM_EDITABLE_FIELDS)),
                 note=str(inspection))
    return problem


@transaction.atomic
def problems_create_batch(
    *, inspection: Inspection, problems: list[tuple[int, str, str]], actor: User | None = None,
) -> list[Problem]:
    """problem_create for many problems of one inspection at once (an Excel ledger's new
    problems: number, text, aspect), in a number of statements that does not grow with them:
    the same checks (the numbers' uniqueness in one query), one INSERT, one audit INSERT."""
    _ensure_covers(actor, inspection.target_unit)
    made = [Problem(inspection=inspection, number=number, text=text, aspect=aspect)
            for number, text, aspect in problems]
    for problem in made:
        _validate(problem, constraints=False, exclude=("inspection",))
    numbers = [problem.number for problem in made]
    taken = set(
        Problem.objects.filter(inspection=inspection, number__in=numbers)
        .values_list("number", flat=True)
    )
    repeated = taken | {number for number, times in Counter(numbers).items() if times > 1}
    if repeated:
        listed = "、".join(str(number) for number in sorted(repeated))
        raise InvalidInput(f"问题序号{listed}在该巡视巡察中已存在",
                           fields={"number": "该巡视巡察中已有此序号"})
    made = Problem.objects.bulk_create(made)
    audit_record_batch([
        audit_entry(actor=actor, action=AuditAction.PROBLEM_CREATE, target=problem,
                    changes=audit_diff({}, audit_snapshot(problem, PROBLEM_EDITABLE_FIELDS)),
                    note=str(inspection))
        for problem in made
    ])
    return made


INSPECTION_EDITABLE_FIELDS = (
    "title", "kind", "mode", "team", "target", "target_unit", "feedback_date",
    "rectification_deadline",
)
PROBLEM_EDITABLE_FIELDS = ("aspect", "number", "text")


def _ensure_covers(actor: User | None, unit: Unit | None) -> None:
    if actor is not None and not access.may_manage_unit(actor, unit):
        name = unit.name if unit else "未指定被巡视（巡察）单位的巡视巡察"
        raise ActionForbidden(f"您无权管理“{name}”的巡视巡察及反馈问题")


def _validated_save(obj) -> None:
    _validate(obj)
    obj.save()


def _validate(obj, *, constraints: bool = True, exclude: tuple[str, ...] = ()) -> None:
    """full_clean, its errors in Chinese as InvalidInput. Without `constraints` (and with the
    foreign keys given as instances in `exclude`): only the checks that read nothing, the
    caller checking uniqueness at once for many."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=constraints,
                       validate_constraints=constraints)
    except ValidationError as error:
        errors = dict(error.message_dict)
        general = errors.pop("__all__", [])
        fields = {field: "；".join(messages) for field, messages in errors.items()}
        raise InvalidInput("；".join(general) or "输入有误，请检查各字段", fields=fields) from error


@transaction.atomic
def inspection_update(*, inspection: Inspection, actor: User, **changes) -> Inspection:
    unknown = set(changes) - set(INSPECTION_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"不能直接修改以下字段：{'、'.join(sorted(unknown))}")
    _ensure_covers(actor, inspection.target_unit)
    if "target_unit" in changes:
        _ensure_covers(actor, changes["target_unit"])
    if "rectification_deadline" in changes:
        ensure_deadline_in_bounds(changes["rectification_deadline"], today=timezone.localdate(),
                                  field="rectification_deadline", label="整改时限")
    before = audit_snapshot(inspection, changes)
    for field, value in changes.items():
        setattr(inspection, field, value)
    _validated_save(inspection)
    if diff := audit_diff(before, audit_snapshot(inspection, changes)):
        audit_record(actor=actor, action=AuditAction.INSPECTION_UPDATE, target=inspection,
                     changes=diff)
        inspection_choices_changed()  # the filters show its title, in feedback-date order
    return inspection


@transaction.atomic
def problem_update(*, problem: Problem, actor: User, **changes) -> Problem:
    unknown = set(changes) - set(PROBLEM_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"不能直接修改以下字段：{'、'.join(sorted(unknown))}")
    _ensure_covers(actor, problem.inspection.target_unit)
    before = audit_snapshot(problem, changes)
    for field, value in changes.items():
        setattr(problem, field, value)
    _validated_save(problem)
    if diff := audit_diff(before, audit_snapshot(problem, changes)):
        audit_record(actor=actor, action=AuditAction.PROBLEM_UPDATE, target=problem,
                     changes=diff, note=str(problem.inspection))
    return problem


@transaction.atomic
def inspection_delete(*, inspection: Inspection, actor: User) -> None:
    """Delete an inspection entered by mistake: only while it has no problems."""
    _ensure_covers(actor, inspection.target_unit)
    pk, label = inspection.pk, str(inspection)
    _delete_unreferenced(inspection, "该巡视巡察已有反馈问题，不能删除")
    audit_record(actor=actor, action=AuditAction.INSPECTION_DELETE,
                 target_type="tracker.inspection", target_id=pk, target_label=label)


@transaction.atomic
def problem_delete(*, problem: Problem, actor: User) -> None:
    """Delete a problem entered by mistake: only while no task is filed under it."""
    _ensure_covers(actor, problem.inspection.target_unit)
    pk, label, note = problem.pk, str(problem), str(problem.inspection)
    _delete_unreferenced(problem, "该问题已有整改任务，不能删除")
    audit_record(actor=actor, action=AuditAction.PROBLEM_DELETE, target_type="tracker.problem",
                 target_id=pk, target_label=label, note=note)


def _delete_unreferenced(obj, refusal: str) -> None:
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as error:
        raise InvalidInput(refusal) from error
