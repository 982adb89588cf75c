"""Import and export of the rectification ledger (整改台账) as .xlsx.

Import validates every row before writing anything: any error rejects the whole file with the
complete list ("第5行：责任单位“市教育厅”不存在"). A good file is stored in one transaction
through the same services as every other write, so each task has its history.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tracker import access
from tracker.deadlines import deadline_state
from tracker.errors import ActionForbidden, ImportRejected
from tracker.ledger_excel.reading import (
    NOT_XLSX,
    LedgerError,
    LedgerFileError,
    LedgerRow,
    read_ledger,
)
from tracker.ledger_excel.writing import ExportRow, write_ledger
from tracker.models import Inspection, Problem, Task, TaskStatus, Unit, User
from tracker.selectors import ledger_task_list
from tracker.services import tasks as task_services
from tracker.services.inspections import problem_create

IMPORT_NOTE = "依整改台账导入"
S = TaskStatus


# --- Unit names ------------------------------------------------------------------------------

_PARENS = str.maketrans({"(": "（", ")": "）"})
_QUALIFIER = re.compile(r"[/／]")


def _norm(name: str) -> str:
    return "".join(name.split()).translate(_PARENS)


class UnitNameError(ValueError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class UnitNames:
    """Matches unit names written in a ledger against the unit tree, and writes them back.

    A name matches a unit's full name, or failing that its short name. A name shared by several
    units ("城关镇" under two counties) must be qualified by its parent: "甲县/城关镇".
    """

    def __init__(self, units: Iterable[Unit]):
        self.by_id: dict[int, Unit] = {}
        self.by_name: dict[str, list[Unit]] = defaultdict(list)
        self.by_short: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            self.by_id[unit.pk] = unit
            self.by_name[_norm(unit.name)].append(unit)
            if unit.short_name:
                self.by_short[_norm(unit.short_name)].append(unit)

    @classmethod
    def load(cls) -> "UnitNames":
        return cls(Unit.objects.only("id", "name", "short_name", "parent_id", "path"))

    def _named(self, name: str) -> list[Unit]:
        key = _norm(name)
        return self.by_name.get(key) or self.by_short.get(key) or []

    def _matches_chain(self, unit: Unit, ancestors: list[str]) -> bool:
        node = unit
        for name in reversed(ancestors):
            node = self.by_id.get(node.parent_id) if node.parent_id else None
            if node is None or _norm(name) not in (_norm(node.name), _norm(node.short_name)):
                return False
        return True

    def resolve(self, text: str, *, label: str = "责任单位") -> Unit:
        *ancestors, name = [s for s in _QUALIFIER.split(text) if s.strip()] or [text]
        candidates = [u for u in self._named(name) if self._matches_chain(u, ancestors)]
        if not candidates:
            raise UnitNameError(f"{label}“{text}”不存在")
        if len(candidates) > 1:
            names = "、".join(self.display(u, force_parent=True) for u in candidates)
            raise UnitNameError(
                f"{label}“{text}”有多个同名单位：{names}，请写明上级单位，如“{names.split('、')[0]}”"
            )
        return candidates[0]

    def display(self, unit: Unit, *, force_parent: bool = False) -> str:
        """The shortest name that resolves back to exactly this unit."""
        chain = [unit.name]
        node = unit
        while True:
            text = "/".join(chain)
            if not (force_parent and len(chain) == 1 and node.parent_id):
                try:
                    if self.resolve(text).pk == unit.pk:
                        return text
                except UnitNameError:
                    pass
            node = self.by_id.get(node.parent_id) if node.parent_id else None
            if node is None:
                return text
            chain.insert(0, node.name)


# --- Import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    inspection: Inspection
    problems_created: int
    tasks_created: int
    progress_reports_created: int

    @property
    def message(self) -> str:
        return (
            f"导入成功：新建反馈问题{self.problems_created}个、整改任务{self.tasks_created}项"
            f"（其中填报整改进展{self.progress_reports_created}条）。"
        )


def _ensure_may_import(actor: User) -> None:
    if not access.is_supervisor_or_admin(actor):
        raise ActionForbidden("只有督导人员可以导入整改台账")


@dataclass
class _Planned:
    row: LedgerRow
    lead: Unit
    supporting: list[Unit]


def _plan(
    rows: list[LedgerRow], *, actor: User, names: UnitNames, errors: list[LedgerError]
) -> list[_Planned]:
    planned = []
    for row in rows:
        lead = None
        supporting = []
        if row.lead_unit:
            try:
                lead = names.resolve(row.lead_unit)
            except UnitNameError as exc:
                errors.append(LedgerError(row.row, exc.reason))
            else:
                if not access.may_manage_unit(actor, lead):
                    errors.append(LedgerError(row.row, f"您无权为“{lead.name}”创建整改任务"))
        for name in row.supporting_units:
            try:
                unit = names.resolve(name, label="配合单位")
            except UnitNameError as exc:
                errors.append(LedgerError(row.row, exc.reason))
            else:
                if not access.may_manage_unit(actor, unit):
                    errors.append(LedgerError(row.row, f"您无权将“{unit.name}”设为配合单位"))
                elif lead is None or unit.pk != lead.pk:
                    supporting.append(unit)
        if lead is not None:
            planned.append(_Planned(row=row, lead=lead, supporting=supporting))
    return planned


def _taken_numbers(inspection: Inspection, numbers: Iterable[int]) -> set[int]:
    return set(
        Problem.objects.filter(inspection=inspection, number__in=list(numbers)).values_list(
            "number", flat=True
        )
    )


def _number_errors(ledger, taken: set[int]) -> list[LedgerError]:
    return [
        LedgerError(p.row, f"问题序号“{p.number}”在该巡视巡察中已存在")
        for p in ledger.problems
        if p.number in taken
    ]


def _reject(errors: list[LedgerError]) -> ImportRejected:
    return ImportRejected([str(e) for e in sorted(errors, key=lambda e: e.row)])


def ledger_import(
    *,
    inspection: Inspection,
    actor: User,
    data: bytes,
    filename: str = "",
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import a ledger workbook into `inspection`, all or nothing.

    Raises ImportRejected (every error, "第N行：原因") when any row is bad, ActionForbidden
    when the actor is not a supervisor or administrator.
    """
    now = now or timezone.now()
    _ensure_may_import(actor)
    max_bytes = settings.TRACKER_LEDGER_MAX_BYTES
    if not data:
        raise ImportRejected([NOT_XLSX])
    if len(data) > max_bytes:
        raise ImportRejected([f"文件超过{max_bytes // (1024 * 1024)}MB，请分批导入"])

    # Reading the workbook is slow; it happens before any transaction.
    highest = (
        Problem.objects.filter(inspection=inspection).order_by("-number")
        .values_list("number", flat=True).first()
    )
    try:
        ledger = read_ledger(
            data, filename=filename, first_number=(highest or 0) + 1,
            max_rows=settings.TRACKER_LEDGER_MAX_ROWS,
        )
    except LedgerFileError as exc:
        raise ImportRejected([exc.reason]) from None
    errors = list(ledger.errors)
    planned = _plan(ledger.rows, actor=actor, names=UnitNames.load(), errors=errors)
    numbers = [p.number for p in ledger.problems]
    errors += _number_errors(ledger, _taken_numbers(inspection, numbers))
    if errors:
        raise _reject(errors)

    with transaction.atomic():
        # One import at a time per inspection: the second waits here and then sees the first's
        # problem numbers.
        Inspection.objects.select_for_update().filter(pk=inspection.pk).first()
        taken = _taken_numbers(inspection, numbers)
        if taken:
            raise _reject(_number_errors(ledger, taken))
        problems: dict[int, Problem] = {}
        for lp in ledger.problems:
            problems[id(lp)] = problem_create(
                inspection=inspection, number=lp.number, text=lp.text, aspect=lp.aspect
            )
        reports = 0
        for item in planned:
            row = item.row
            task = task_services.task_create(
                problem=problems[id(row.problem)], actor=actor, title=row.title,
                measures=row.measures, task_type=row.task_type, lead_unit=item.lead,
                supporting_units=item.supporting, responsible_leader=row.leader,
                responsible_person=row.person, deadline=row.deadline, now=now,
            )
            reports += _bring_to_status(task, row=row, actor=actor, now=now)
    return ImportResult(
        inspection=inspection, problems_created=len(problems), tasks_created=len(planned),
        progress_reports_created=reports,
    )


def _bring_to_status(task: Task, *, row: LedgerRow, actor: User, now: dt.datetime) -> int:
    """Move a new task to the ledger's status through the transition services, so the history
    says how it got there. A progress note (整改进展) becomes a progress report; on a task not
    yet started it starts the task. Returns the number of progress reports written."""
    target = row.status
    kw = {"actor": actor, "note": IMPORT_NOTE, "now": now}
    if target == S.LONG_TERM:
        task = task_services.task_mark_long_term(task=task, **kw)
        if row.progress:
            task_services.task_report_progress(task=task, actor=actor, note=row.progress, now=now)
        return 1 if row.progress else 0
    if row.progress:
        task_services.task_report_progress(task=task, actor=actor, note=row.progress, now=now)
        task.refresh_from_db()
    elif target != S.NOT_STARTED:
        task = task_services.task_start(task=task, **kw)
    if target in (S.SUBMITTED, S.COMPLETED):
        task = task_services.task_submit(task=task, **kw)
    if target == S.COMPLETED:
        task_services.task_close(task=task, **kw)
    if target == S.BASICALLY_COMPLETED:
        task_services.task_mark_basically_completed(task=task, **kw)
    return 1 if row.progress else 0


# --- Export ----------------------------------------------------------------------------------


def ledger_export(
    *, tasks: QuerySet[Task], title: str | None = None, today: dt.date | None = None
) -> bytes:
    """The ledger of `tasks` (any filter, already scoped to the user by the caller, e.g.
    `task_list(user=...).filter(...)`) as .xlsx: one row per task, problem cells merged,
    with each task's light and days left on `today` (default: the local date).

    Queries: the tasks with their problem, inspection, lead unit and latest progress note;
    their supporting units; the unit tree (for unambiguous unit names). Three in all."""
    today = today or timezone.localdate()
    rows = list(ledger_task_list(tasks=tasks))
    states = {
        t.pk: deadline_state(status=t.status, deadline=t.deadline, today=today) for t in rows
    }
    names = UnitNames.load()
    inspections = {t.inspection_id: t.inspection for t in rows}
    if title is None:
        title = (
            f"{next(iter(inspections.values())).title}反馈问题整改台账"
            if len(inspections) == 1 else "整改台账"
        )
    export_rows = [
        ExportRow(
            problem_key=task.problem_id,
            number=task.problem.number,
            aspect=task.problem.aspect,
            problem=task.problem.text,
            title=task.title,
            measures=task.measures,
            lead_unit=names.display(names.by_id.get(task.lead_unit_id, task.lead_unit)),
            supporting_units=[
                names.display(names.by_id.get(u.pk, u)) for u in task.supporting_units.all()
            ],
            leader=task.responsible_leader,
            person=task.responsible_person,
            task_type=task.task_type,
            deadline=task.deadline,
            progress=task.latest_progress or "",
            status=str(TaskStatus(task.status).label),
            inspection=task.inspection.title,
            light=states[task.pk].light,
            light_label=states[task.pk].light_label,
            days_left=states[task.pk].text,
        )
        for task in rows
    ]
    return write_ledger(export_rows, title=title, with_inspection=len(inspections) > 1)
