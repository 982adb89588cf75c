import datetime as dt

from django.db import transaction

from tracker.models import Inspection, InspectionKind, InspectionMode, Problem, Unit


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
) -> Inspection:
    inspection = Inspection(
        title=title, kind=kind, mode=mode, team=team, target=target, target_unit=target_unit,
        feedback_date=feedback_date, rectification_deadline=rectification_deadline,
    )
    inspection.full_clean()
    inspection.save()
    return inspection


@transaction.atomic
def problem_create(
    *, inspection: Inspection, number: int, text: str, aspect: str = ""
) -> Problem:
    problem = Problem(inspection=inspection, number=number, text=text, aspect=aspect)
    problem.full_clean()
    problem.save()
    return problem
