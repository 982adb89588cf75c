"""Import and export of the rectification ledger (整改台账) as .xlsx: a round trip.

The export writes each task's id in a hidden column and, in a very hidden sheet, the task's
version and a digest of its row as written. An import matches rows by that key: a known row
whose content differs from its task is an update, a row without a key is a new task, a row
that equals its task changes nothing, and an edited row whose task was changed in the tracker
after the export is a conflict (listed, never overwritten).

An import is planned first (`ledger_preview`: every row validated, every change listed cell by
cell, every permission checked, nothing written) and then applied in one transaction
(`ledger_apply`) through the same services as every other write, so each change has its
history. Any error rejects the whole file with the complete list ("第5行：…").
"""

import datetime as dt
import functools
import hashlib
import json
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tracker import access
from tracker.deadlines import deadline_state
from tracker.errors import ActionForbidden, DomainError, ImportRejected
from tracker.ledger_excel.columns import BY_KEY, COLUMNS
from tracker.ledger_excel.reading import (
    NOT_XLSX,
    LedgerError,
    LedgerFileError,
    LedgerProblem,
    LedgerRow,
    ParsedLedger,
    UploadShape,
    read_ledger,
)
from tracker.ledger_excel.reading import check_upload as check_upload_bounds
from tracker.ledger_excel.values import (
    KEY_TASK_YES,
    PRIORITY_CHOICES_HINT,
    STATUS_CHOICES_HINT,
    CellError,
    clean_text,
    format_deadline,
    one_line,
    parse_deadline,
)
from tracker.ledger_excel.writing import ExportRow, write_ledger, write_template
from tracker.models import (
    Inspection,
    Problem,
    Task,
    TaskAction,
    TaskPriority,
    TaskStatus,
    Unit,
    User,
)
from tracker.selectors import ledger_task_list
from tracker.services import priority as priority_services
from tracker.services import tasks as task_services
from tracker.services.audit import AuditAction, audit_record
from tracker.services.inspections import problems_create_batch

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
        self._resolved: dict[tuple[str, str], Unit | UnitNameError] = {}
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
        # Ten thousand rows name a few dozen units: each name is resolved once.
        key = (text, label)
        if key not in self._resolved:
            try:
                self._resolved[key] = self._resolve(text, label=label)
            except UnitNameError as exc:
                self._resolved[key] = exc
        found = self._resolved[key]
        if isinstance(found, UnitNameError):
            raise UnitNameError(found.reason)
        return found

    def _resolve(self, text: str, *, label: str) -> Unit:
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


# --- Comparing a row with its task -------------------------------------------------------------

Progress = Callable[[int, int], None]
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _as_written(text: str) -> str:
    # The export drops control characters (not allowed in a sheet) and the reader cleans
    # spaces and blank lines: a task is compared as it reads back.
    return _ILLEGAL.sub("", text or "")


@dataclass(frozen=True)
class RowValues:
    """A ledger row's content as the reader gives it back. A task and a row are compared
    through this, so that formatting (spaces, line breaks, a date typed as text) is never a
    change."""

    title: str
    measures: str
    lead_unit: int
    supporting_units: tuple[int, ...]
    leader: str
    person: str
    task_type: str
    deadline: dt.date | None
    progress: str
    status: str
    key_task: bool = False  # 重点任务
    priority: int = 1  # TaskPriority

    def digest(self) -> str:
        raw = json.dumps(
            [self.title, self.measures, self.lead_unit, list(self.supporting_units),
             self.leader, self.person, self.task_type,
             self.deadline.isoformat() if self.deadline else None, self.progress, self.status,
             self.key_task, self.priority],
            ensure_ascii=False,
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=4096)
def _deadline_as_read(task_type: str, deadline: dt.date | None) -> tuple[str, dt.date | None]:
    try:
        parsed = parse_deadline(format_deadline(task_type, deadline))
    except CellError:
        return task_type, deadline
    return parsed.task_type, parsed.date


# A ledger row's task as plain values (no model instances: ten thousand rows are compared and
# written from these; instances are loaded only for the rows an import changes).
TASK_VALUES = (
    "id", "version", "status", "title", "measures", "task_type", "deadline", "lead_unit_id",
    "responsible_leader", "responsible_person", "latest_progress", "is_key", "priority",
)


def ledger_rows(
    tasks: QuerySet[Task], *extra: str
) -> tuple[list[dict], dict[int, list[int]]]:
    """The tasks of `tasks` in ledger order as dicts (TASK_VALUES and `extra`, e.g.
    "problem__number"), and their supporting units' ids by task id. Two queries."""
    rows = list(
        ledger_task_list(tasks=tasks).prefetch_related(None).values(*TASK_VALUES, *extra)
    )
    supporting: dict[int, list[int]] = defaultdict(list)
    through = Task.supporting_units.through
    for task_id, unit_id in through.objects.filter(
        task__in=tasks.order_by().values("pk")
    ).values_list("task_id", "unit_id"):
        supporting[task_id].append(unit_id)
    return rows, supporting


def task_values(task: dict, *, supporting: Iterable[int]) -> RowValues:
    """The row of `task` (a dict of TASK_VALUES) as an import reads it back."""
    task_type, deadline = _deadline_as_read(task["task_type"], task["deadline"])
    return RowValues(
        title=one_line(_as_written(task["title"])),
        measures=clean_text(_as_written(task["measures"])),
        lead_unit=task["lead_unit_id"],
        supporting_units=tuple(sorted(supporting)),
        leader=one_line(_as_written(task["responsible_leader"])),
        person=one_line(_as_written(task["responsible_person"])),
        task_type=task_type,
        deadline=deadline,
        progress=clean_text(_as_written(task["latest_progress"] or "")),
        status=task["status"],
        key_task=task["is_key"],
        priority=task["priority"],
    )


def _row_values(row: LedgerRow, lead: Unit, supporting: list[Unit]) -> RowValues:
    return RowValues(
        title=row.title, measures=row.measures, lead_unit=lead.pk,
        supporting_units=tuple(sorted(u.pk for u in supporting if u.pk != lead.pk)),
        leader=row.leader, person=row.person, task_type=row.task_type, deadline=row.deadline,
        progress=row.progress, status=row.status,
        key_task=bool(row.is_key),
        priority=row.priority if row.priority is not None else int(TaskPriority.NORMAL),
    )


def transition_path(source: str, target: str) -> list[TaskAction] | None:
    """The shortest chain of transitions (tracker.services.tasks.TRANSITIONS) that moves a
    task from `source` to `target` status, e.g. 整改中 → 已销号 is submit then close. None when
    no chain exists."""
    if source == target:
        return []
    frontier: deque[tuple[str, list[TaskAction]]] = deque([(source, [])])
    seen = {source}
    while frontier:
        status, path = frontier.popleft()
        for action, rule in task_services.TRANSITIONS.items():
            if rule.target is None or status not in rule.sources or rule.target in seen:
                continue
            if rule.target == target:
                return [*path, action]
            seen.add(rule.target)
            frontier.append((rule.target, [*path, action]))
    return None


# --- Planning an import ---------------------------------------------------------------------


@dataclass(frozen=True)
class CellChange:
    column: str  # the column's label, as in the sheet
    old: str
    new: str


ROW_NEW, ROW_CHANGED, ROW_UNCHANGED, ROW_CONFLICT = "new", "changed", "unchanged", "conflict"
ROW_KIND_LABELS = {
    ROW_NEW: "新增", ROW_CHANGED: "修改", ROW_UNCHANGED: "未变", ROW_CONFLICT: "冲突",
}


@dataclass
class RowPlan:
    """What an import does with one row."""

    row: int
    kind: str
    title: str
    task_id: int | None = None
    changes: list[CellChange] = field(default_factory=list)
    reason: str = ""  # why a conflict
    # What the apply step does (not part of the preview).
    ledger_row: LedgerRow | None = None
    task: Task | None = None
    lead: Unit | None = None
    supporting: list[Unit] = field(default_factory=list)
    updates: dict = field(default_factory=dict)  # task_update fields
    priority_changes: dict = field(default_factory=dict)  # task_set_priority arguments
    new_supporting: list[Unit] | None = None
    progress_note: str = ""
    path: list[TaskAction] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "row": self.row, "kind": self.kind, "title": self.title, "task": self.task_id,
            "changes": [c.__dict__ for c in self.changes], "reason": self.reason,
        }


@dataclass
class LedgerPlan:
    inspection: Inspection
    rows: list[RowPlan] = field(default_factory=list)  # new, changed, conflicts (in row order)
    unchanged: int = 0
    errors: list[LedgerError] = field(default_factory=list)
    new_problems: list[LedgerProblem] = field(default_factory=list)
    existing_problems: dict[int, Problem] = field(default_factory=dict)  # by number
    exported_at: str = ""

    def of_kind(self, kind: str) -> list[RowPlan]:
        return [r for r in self.rows if r.kind == kind]

    @property
    def counts(self) -> dict[str, int]:
        return {
            ROW_NEW: len(self.of_kind(ROW_NEW)), ROW_CHANGED: len(self.of_kind(ROW_CHANGED)),
            ROW_UNCHANGED: self.unchanged, ROW_CONFLICT: len(self.of_kind(ROW_CONFLICT)),
            "errors": len(self.errors),
        }

    @property
    def fingerprint(self) -> str:
        """What confirming would do; a confirm re-plans and must find the same."""
        raw = json.dumps([r.as_json() for r in self.rows] + [self.unchanged], ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()

    def as_json(self) -> dict:
        """The preview: stored on the import's job and shown on the page."""
        return {
            "inspection": self.inspection.pk,
            "exported_at": self.exported_at,
            "counts": self.counts,
            "rows": [r.as_json() for r in self.rows],
            "errors": [str(e) for e in sorted(self.errors)],
            "fingerprint": self.fingerprint,
        }


def ensure_may_import(actor: User, inspection: Inspection) -> None:
    """Anyone who sees the inspection may bring a ledger; what each row may do is decided per
    row by the rule book (create and edit: a supervisor over the unit; status: the
    transition's rule), so an officer's sheet can report progress and submit, not close."""
    if not actor.is_authenticated or not actor.is_active:
        raise ActionForbidden("请先登录")
    if not access.is_supervisor_or_admin(actor) and not Inspection.objects.filter(
        access.visible_inspections_q(actor), pk=inspection.pk
    ).exists():
        raise ActionForbidden("您无权导入该巡视巡察的整改台账")


def check_size(data: bytes) -> None:
    max_bytes = settings.TRACKER_LEDGER_MAX_BYTES
    if not data:
        raise ImportRejected([NOT_XLSX])
    if len(data) > max_bytes:
        raise ImportRejected([f"文件超过{max_bytes // (1024 * 1024)}MB，请分批导入"])


def _bounds() -> dict:
    return {
        "max_rows": settings.TRACKER_LEDGER_MAX_ROWS,
        "max_columns": settings.TRACKER_LEDGER_MAX_COLUMNS,
        "max_unzipped": settings.TRACKER_LEDGER_MAX_UNZIPPED_BYTES,
    }


def check_upload(data: bytes, *, filename: str = "") -> UploadShape:
    """What an upload must meet before anything is parsed (size, the zip's declared
    uncompressed sizes, each sheet's declared dimension), checked in the web process; returns
    the first sheet's declared rows and XML size. Raises ImportRejected with the reason."""
    check_size(data)
    try:
        return check_upload_bounds(data, filename=filename, **_bounds())
    except LedgerFileError as exc:
        raise ImportRejected([exc.reason]) from None


def _read(
    data: bytes, *, inspection: Inspection, filename: str, progress: Progress | None
) -> ParsedLedger:
    check_size(data)
    highest = (
        Problem.objects.filter(inspection=inspection).order_by("-number")
        .values_list("number", flat=True).first()
    )
    try:
        return read_ledger(
            data, filename=filename, first_number=(highest or 0) + 1, progress=progress,
            **_bounds(),
        )
    except LedgerFileError as exc:
        raise ImportRejected([exc.reason]) from None


def _resolve_units(
    row: LedgerRow, names: UnitNames, errors: list[LedgerError]
) -> tuple[Unit | None, list[Unit]]:
    lead = None
    supporting: list[Unit] = []
    if row.lead_unit:
        try:
            lead = names.resolve(row.lead_unit)
        except UnitNameError as exc:
            errors.append(LedgerError(row.row, exc.reason))
    for name in row.supporting_units:
        try:
            unit = names.resolve(name, label="配合单位")
        except UnitNameError as exc:
            errors.append(LedgerError(row.row, exc.reason))
        else:
            if lead is None or unit.pk != lead.pk:
                supporting.append(unit)
    return lead, supporting


class _Display:
    """Cells as text for the preview's old → new."""

    def __init__(self, names: UnitNames):
        self.names = names

    def unit(self, pk: int) -> str:
        unit = self.names.by_id.get(pk)
        return self.names.display(unit) if unit else ""

    def value(self, key: str, values: RowValues) -> str:
        if key == "lead_unit":
            return self.unit(values.lead_unit)
        if key == "supporting_units":
            return "、".join(self.unit(pk) for pk in values.supporting_units)
        if key == "deadline":
            shown = format_deadline(values.task_type, values.deadline)
            if isinstance(shown, dt.date):
                return f"{shown.year}年{shown.month}月{shown.day}日"
            return shown or ""
        if key == "status":
            return str(TaskStatus(values.status).label)
        if key == "key_task":
            return "是" if values.key_task else "否"
        if key == "priority":
            return str(TaskPriority(values.priority).label)
        return getattr(values, key)


COMPARED_COLUMNS = (
    "title", "measures", "lead_unit", "supporting_units", "leader", "person", "deadline",
    "progress", "status", "key_task", "priority",
)


def _changed_columns(old: RowValues, new: RowValues) -> list[str]:
    changed = []
    for key in COMPARED_COLUMNS:
        if key == "deadline":
            if (old.task_type, old.deadline) != (new.task_type, new.deadline):
                changed.append(key)
        elif getattr(old, key) != getattr(new, key):
            changed.append(key)
    return changed


def _plan_update(
    plan: RowPlan, *, task: Task, old: RowValues, new: RowValues, changed: list[str],
    actor: User, names: UnitNames, errors: list[LedgerError],
) -> None:
    """Fill in what the apply step will call for a changed row, checking every permission
    with the rule book first (the services check again)."""
    r = plan.row
    plan_fields = [k for k in changed if k not in ("progress", "status", "key_task", "priority")]
    priority_fields = [k for k in changed if k in ("key_task", "priority")]
    if priority_fields:
        # 重点任务 and priority: a supervisor of the lead unit's, never an officer's row.
        if not access.may_set_priority(actor, task):
            labels = "、".join(BY_KEY[k].label for k in priority_fields)
            errors.append(LedgerError(r, f"您没有权限调整该任务的{labels}（{plan.title}）"))
        if "key_task" in priority_fields:
            plan.priority_changes["is_key"] = new.key_task
        if "priority" in priority_fields:
            plan.priority_changes["priority"] = new.priority
    if plan_fields:
        if not task_services.ACTIONS["edit"].may_act(actor, task):
            labels = "、".join(BY_KEY[k].label for k in plan_fields)
            errors.append(LedgerError(r, f"您没有权限修改该任务的{labels}（{plan.title}）"))
        plain = {"title": "title", "measures": "measures", "leader": "responsible_leader",
                 "person": "responsible_person"}
        for key in plan_fields:
            if key in plain:
                plan.updates[plain[key]] = getattr(new, key)
            elif key == "deadline":
                plan.updates["task_type"] = new.task_type
                plan.updates["deadline"] = new.deadline
            elif key == "lead_unit":
                lead = names.by_id[new.lead_unit]
                if not access.may_manage_unit(actor, lead):
                    errors.append(LedgerError(r, f"您无权将任务改由“{lead.name}”牵头"))
                plan.updates["lead_unit"] = lead
            elif key == "supporting_units":
                plan.new_supporting = [names.by_id[pk] for pk in new.supporting_units]
                outside = [
                    u.name for u in plan.new_supporting
                    if u.pk not in old.supporting_units and not access.may_manage_unit(actor, u)
                ]
                if outside:
                    errors.append(LedgerError(r, f"您无权将“{'、'.join(outside)}”设为配合单位"))
    status = S(task.status)
    if "progress" in changed:
        plan.progress_note = new.progress
        if not task_services.TRANSITIONS[TaskAction.PROGRESS].may_act(actor, task):
            errors.append(LedgerError(r, "您没有权限填报该任务的整改进展"))
        elif status not in task_services.TRANSITIONS[TaskAction.PROGRESS].sources:
            errors.append(LedgerError(
                r, f"任务当前状态为“{status.label}”，不能填报整改进展，请只修改完成情况"
            ))
        elif status == S.NOT_STARTED:
            status = S.IN_PROGRESS  # the first progress note starts the work
    if "status" in changed and new.status != status:
        path = transition_path(status, new.status)
        target = S(new.status).label
        if path is None:
            errors.append(LedgerError(r, f"完成情况不能由“{status.label}”直接改为“{target}”"))
            return
        for action in path:
            if not task_services.TRANSITIONS[action].may_act(actor, task):
                errors.append(LedgerError(
                    r, f"您没有权限执行“{action.label}”，不能将完成情况由“{S(task.status).label}”"
                    f"改为“{target}”（{plan.title}）"
                ))
                return
        plan.path = path


KEYS_IN_LIST = 1000


def _conflict(item: RowPlan, exported: int, current: int) -> None:
    item.kind = ROW_CONFLICT
    item.reason = (
        f"导出后该任务已在系统中被修改（导出时第{exported}版，当前第{current}版），"
        "本行未导入，请重新导出后再修改"
    )


def _content_key(problem_text: str, title: str, measures: str, lead_unit_id: int) -> tuple:
    return (clean_text(problem_text), clean_text(title), clean_text(measures), lead_unit_id)


def _plan_keyless(
    plan: LedgerPlan, keyless: list[tuple[LedgerRow, Unit, list[Unit]]], *, scoped, actor: User,
    display: "_Display", problems_with_new_rows: set[int],
) -> None:
    """Rows without a key (added in Excel, or a ledger that was never exported): a row whose
    problem, task, measures and lead unit are those of a task the inspection already has is
    that task, unchanged (the same hand-made ledger imported twice creates nothing the second
    time); any other row is a new task. One query for the inspection's tasks as content."""
    existing = {
        _content_key(*values)
        for values in scoped.values_list("problem__text", "title", "measures", "lead_unit_id")
    }
    for row, lead, supporting in keyless:
        problem_text = row.problem.text if row.problem is not None else ""
        if _content_key(problem_text, row.title, row.measures, lead.pk) in existing:
            plan.unchanged += 1
            continue
        if row.problem is not None:
            problems_with_new_rows.add(id(row.problem))
        if not access.may_manage_unit(actor, lead):
            plan.errors.append(LedgerError(row.row, f"您无权为“{lead.name}”创建整改任务"))
        outside = [u.name for u in supporting if not access.may_manage_unit(actor, u)]
        if outside:
            plan.errors.append(
                LedgerError(row.row, f"您无权将“{'、'.join(outside)}”设为配合单位")
            )
        values = _row_values(row, lead, supporting)
        shown = {k: display.value(k, values) for k in COMPARED_COLUMNS}
        plan.rows.append(RowPlan(
            row=row.row, kind=ROW_NEW, title=row.title, ledger_row=row, lead=lead,
            supporting=supporting,
            changes=[CellChange(BY_KEY[k].label, "", v) for k, v in shown.items() if v],
        ))
    plan.rows.sort(key=lambda item: item.row)  # the preview lists rows in the sheet's order
    plan.errors.sort(key=lambda error: error.row)


def _plan_ledger(
    ledger: ParsedLedger, *, inspection: Inspection, actor: User,
    progress: Progress | None = None,
) -> LedgerPlan:
    """Decide every row against the database: a constant number of queries whatever the size
    (the unit tree; the keyed tasks' values with their supporting units and latest progress;
    the problems by number when there are new rows; the changed rows' tasks), then only work
    in memory."""
    plan = LedgerPlan(inspection=inspection, errors=list(ledger.errors))
    meta = ledger.meta
    plan.exported_at = meta.exported_at if meta else ""
    names = UnitNames.load()
    display = _Display(names)
    keys = {row.key for row in ledger.rows if row.key}
    tasks: dict[int, dict] = {}
    supporting_of: dict[int, list[int]] = {}
    # Only tasks of this inspection that the importer sees: another unit's row, or one
    # outside a supervisor's subtree, is simply unknown here.
    scoped = Task.objects.filter(access.visible_tasks_q(actor), inspection=inspection)
    if keys:
        # Many keys: the inspection's tasks rather than a list of thousands of ids.
        keyed = scoped.filter(pk__in=keys) if len(keys) <= KEYS_IN_LIST else scoped
        rows, supporting_of = ledger_rows(keyed)
        tasks = {t["id"]: t for t in rows if t["id"] in keys}
    # Changed rows whose task is as exported: planned once their tasks are loaded.
    pending: list[tuple[RowPlan, RowValues, RowValues, list[str], int]] = []
    seen_keys: dict[int, int] = {}
    problems_with_new_rows: set[int] = set()
    keyless: list[tuple[LedgerRow, Unit, list[Unit]]] = []
    total = len(ledger.rows)
    for i, row in enumerate(ledger.rows):
        if progress is not None and i % 250 == 0:
            progress(i, total)
        lead, supporting = _resolve_units(row, names, plan.errors)
        if row.key is None:
            if lead is None:
                if row.problem is not None:
                    problems_with_new_rows.add(id(row.problem))
                continue
            keyless.append((row, lead, supporting))
            continue
        if row.key in seen_keys:
            first = seen_keys[row.key]
            plan.errors.append(LedgerError(
                row.row, f"系统编号“{row.key}”与第{first}行重复：复制的行请清空系统编号"
            ))
            continue
        seen_keys[row.key] = row.row
        task = tasks.get(row.key)
        if task is None:
            plan.errors.append(LedgerError(
                row.row, f"系统编号“{row.key}”对应的任务不存在、不属于该巡视巡察或不在您的范围内"
            ))
            continue
        exported = meta.tasks.get(task["id"]) if meta else None
        if exported is None:
            plan.errors.append(LedgerError(
                row.row, f"系统编号“{row.key}”不是导出时写入的，请勿修改该列；新增任务请将其留空"
            ))
            continue
        if lead is None:
            continue
        old = task_values(task, supporting=supporting_of.get(task["id"], ()))
        new = _row_values(row, lead, supporting)
        if not row.progress:
            # A blank progress cell writes no progress note (notes are never deleted).
            new = RowValues(**{**new.__dict__, "progress": old.progress})
        # A sheet without the 重点任务 or 优先级 column leaves them as they are.
        if row.is_key is None:
            new = RowValues(**{**new.__dict__, "key_task": old.key_task})
        if row.priority is None:
            new = RowValues(**{**new.__dict__, "priority": old.priority})
        changed = _changed_columns(old, new)
        if not changed or _row_values(row, lead, supporting).digest() == exported.digest:
            # Equal to the task, or not edited since the export (the tracker may have moved
            # on since: the tracker's copy is newer, nothing to do).
            plan.unchanged += 1
            continue
        item = RowPlan(
            row=row.row, kind=ROW_CHANGED, title=task["title"], task_id=task["id"],
            changes=[
                CellChange(BY_KEY[k].label, display.value(k, old), display.value(k, new))
                for k in changed
            ],
        )
        if task["version"] != exported.version:
            _conflict(item, exported.version, task["version"])
        else:
            pending.append((item, old, new, changed, exported.version))
        plan.rows.append(item)
    if pending:
        # The changed rows' tasks as instances, for the rule book and the services.
        instances = {
            t.pk: t for t in ledger_task_list(
                tasks=scoped.filter(pk__in=[item.task_id for item, *_ in pending])
            )
        }
        for item, old, new, changed, version in pending:
            task = instances.get(item.task_id)
            if task is None:
                plan.errors.append(LedgerError(
                    item.row,
                    f"系统编号“{item.task_id}”对应的任务不存在、不属于该巡视巡察或不在您的范围内",
                ))
            elif task.version != version:
                _conflict(item, version, task.version)  # changed a moment ago
            else:
                item.task = task
                _plan_update(item, task=task, old=old, new=new, changed=changed, actor=actor,
                             names=names, errors=plan.errors)
    if keyless:
        _plan_keyless(plan, keyless, scoped=scoped, actor=actor, display=display,
                      problems_with_new_rows=problems_with_new_rows)
    if progress is not None:
        progress(total, total)
    numbers = [p.number for p in ledger.problems if id(p) in problems_with_new_rows]
    if numbers:
        plan.existing_problems = {
            p.number: p
            for p in Problem.objects.filter(inspection=inspection, number__in=numbers)
        }
    for problem in ledger.problems:
        if id(problem) not in problems_with_new_rows:
            continue
        existing = plan.existing_problems.get(problem.number)
        if existing is None:
            plan.new_problems.append(problem)
        elif clean_text(existing.text) != clean_text(problem.text):
            plan.errors.append(LedgerError(
                problem.row, f"问题序号“{problem.number}”在该巡视巡察中已存在，且问题内容不同"
            ))
    return plan


# --- Preview and apply ----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    inspection: Inspection
    problems_created: int
    tasks_created: int
    progress_reports_created: int
    tasks_updated: int = 0
    unchanged: int = 0
    conflicts: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        text = (
            f"导入成功：新建反馈问题{self.problems_created}个、整改任务{self.tasks_created}项"
            f"（其中填报整改进展{self.progress_reports_created}条）"
        )
        if self.tasks_updated or self.unchanged or self.conflicts:
            text += f"，修改整改任务{self.tasks_updated}项，未变{self.unchanged}项"
        if self.conflicts:
            text += f"，冲突{len(self.conflicts)}项未导入"
        return text + "。"


def _reject(errors: list[LedgerError]) -> ImportRejected:
    return ImportRejected([str(e) for e in sorted(errors, key=lambda e: e.row)])


def ledger_preview(
    *, inspection: Inspection, actor: User, data: bytes, filename: str = "",
    progress: Progress | None = None,
) -> LedgerPlan:
    """Read and plan an import without writing anything: new, changed (old → new per cell),
    unchanged, conflicts and errors. Raises ImportRejected for a file that cannot be read,
    ActionForbidden when the actor does not see the inspection."""
    ensure_may_import(actor, inspection)
    # Progress over both halves: reading the rows, then deciding them.
    read_progress = plan_progress = None
    if progress is not None:
        def read_progress(done: int, total: int) -> None:
            progress(done, 2 * total)

        def plan_progress(done: int, total: int) -> None:
            progress(total + done, 2 * total)

    ledger = _read(data, inspection=inspection, filename=filename, progress=read_progress)
    return _plan_ledger(ledger, inspection=inspection, actor=actor, progress=plan_progress)


def ledger_apply(
    *, inspection: Inspection, actor: User, data: bytes, filename: str = "",
    expected_fingerprint: str | None = None, now: dt.datetime | None = None,
) -> ImportResult:
    """Apply a ledger, all or nothing, in one transaction through the task services.

    The file is read before the transaction (slow); the plan is made again inside it, with
    the inspection locked, so that what is applied is decided on the data as it is now. With
    `expected_fingerprint` (from a preview) anything that changed since the preview refuses
    the whole file. Conflicting rows are listed in the result and left alone."""
    now = now or timezone.now()
    ensure_may_import(actor, inspection)
    ledger = _read(data, inspection=inspection, filename=filename, progress=None)
    with transaction.atomic():
        # One import at a time per inspection: the second waits here, then plans on the
        # first's result.
        Inspection.objects.select_for_update().filter(pk=inspection.pk).first()
        plan = _plan_ledger(ledger, inspection=inspection, actor=actor)
        if plan.errors:
            raise _reject(plan.errors)
        if expected_fingerprint is not None and plan.fingerprint != expected_fingerprint:
            raise ImportRejected([
                "预览之后，台账涉及的任务已在系统中发生变化，未导入任何内容，请重新上传预览"
            ])
        audit_record(actor=actor, action=AuditAction.LEDGER_IMPORT, target=inspection,
                     note=filename, at=now)
        return _execute(plan, actor=actor, now=now)


def ledger_import(
    *, inspection: Inspection, actor: User, data: bytes, filename: str = "",
    now: dt.datetime | None = None,
) -> ImportResult:
    """Preview and apply at once (the import command without --dry-run)."""
    return ledger_apply(inspection=inspection, actor=actor, data=data, filename=filename,
                        now=now)


def _execute(plan: LedgerPlan, *, actor: User, now: dt.datetime) -> ImportResult:
    problems: dict[int, Problem] = dict(plan.existing_problems)
    if plan.new_problems:
        problems |= {
            problem.number: problem for problem in problems_create_batch(
                inspection=plan.inspection,
                problems=[(lp.number, lp.text, lp.aspect) for lp in plan.new_problems],
            )
        }
    new_rows = plan.of_kind(ROW_NEW)
    specs = [_new_task(item, problems=problems) for item in new_rows]
    try:
        # The new rows at once: what task_create and the transition services would write
        # row by row, in a number of statements that does not grow with the rows.
        task_services.tasks_create_batch(actor=actor, tasks=specs, now=now)
    except task_services.TaskBatchRefused as refused:
        # The services refused what the plan allowed (a rule the plan does not repeat):
        # nothing is kept, and the row is named.
        raise ImportRejected([f"第{new_rows[refused.index].row}行：{refused.message}"]) from None
    reports = sum(1 for spec in specs for step in spec.steps if step.action == TaskAction.PROGRESS)
    updated = 0
    for item in plan.of_kind(ROW_CHANGED):
        try:
            reports += _update(item, actor=actor, now=now)
            updated += 1
        except DomainError as exc:
            raise ImportRejected([f"第{item.row}行：{exc.message}"]) from None
    return ImportResult(
        inspection=plan.inspection, problems_created=len(plan.new_problems),
        tasks_created=len(specs), progress_reports_created=reports, tasks_updated=updated,
        unchanged=plan.unchanged,
        conflicts=tuple(f"第{r.row}行：{r.reason}" for r in plan.of_kind(ROW_CONFLICT)),
    )


def _new_task(item: RowPlan, *, problems: dict[int, Problem]) -> task_services.NewTask:
    row = item.ledger_row
    return task_services.NewTask(
        problem=problems[row.problem.number], title=row.title, measures=row.measures,
        task_type=row.task_type, lead_unit=item.lead, supporting_units=tuple(item.supporting),
        responsible_leader=row.leader, responsible_person=row.person, deadline=row.deadline,
        is_key=bool(row.is_key),
        priority=row.priority if row.priority is not None else TaskPriority.NORMAL,
        steps=tuple(steps_to_status(row.status, progress=row.progress)),
    )


def _update(item: RowPlan, *, actor: User, now: dt.datetime) -> int:
    """One changed row through the services: the plan edit (one history row), the progress
    note (one), then each transition (one each)."""
    task = item.task
    version = task.version
    if item.updates or item.new_supporting is not None:
        task = task_services.task_update(
            task=task, actor=actor, expected_version=version,
            supporting_units=item.new_supporting, now=now, **item.updates,
        )
        version = None
    if item.priority_changes:
        task = priority_services.task_set_priority(
            task=task, actor=actor, expected_version=version, now=now, note=IMPORT_NOTE,
            **item.priority_changes,
        )
        version = None
    reports = 0
    if item.progress_note:
        task_services.task_report_progress(
            task=task, actor=actor, note=item.progress_note, expected_version=version, now=now,
        )
        task.refresh_from_db()
        version = None
        reports = 1
    for action in item.path:
        rule = task_services.TRANSITIONS[action]
        service = getattr(task_services, f"task_{action.value}")
        task = service(
            task=task, actor=actor, note=IMPORT_NOTE if rule.note_required else "",
            expected_version=version, now=now,
        )
        version = None
    return reports


def steps_to_status(target: str, *, progress: str = "") -> list[task_services.Step]:
    """How a new task reaches the ledger's status through the transitions, so the history
    says how it got there. A progress note (整改进展) becomes a progress report; on a task not
    yet started it starts the task."""
    note = IMPORT_NOTE
    if target == S.LONG_TERM:
        steps = [task_services.Step(TaskAction.MARK_LONG_TERM, note)]
        return steps + ([task_services.Step(TaskAction.PROGRESS, progress)] if progress else [])
    steps = []
    if progress:
        steps.append(task_services.Step(TaskAction.PROGRESS, progress))
    elif target != S.NOT_STARTED:
        steps.append(task_services.Step(TaskAction.START, note))
    if target in (S.SUBMITTED, S.COMPLETED):
        steps.append(task_services.Step(TaskAction.SUBMIT, note))
    if target == S.COMPLETED:
        steps.append(task_services.Step(TaskAction.CLOSE, note))
    if target == S.BASICALLY_COMPLETED:
        steps.append(task_services.Step(TaskAction.MARK_BASICALLY_COMPLETED, note))
    return steps


# --- Export ----------------------------------------------------------------------------------


def acknowledgement_text(task: dict) -> str:
    """The ledger's 签收情况 cell: 待签收, or who acknowledged and when (before 签收 existed a
    task counts as acknowledged when it was created, by nobody named)."""
    if task["ack_requested_at"] is not None:
        return "待签收"
    if task["acknowledged_at"] is None:
        return ""
    at = timezone.localtime(task["acknowledged_at"])
    who = task["acknowledged_by__full_name"] or task["acknowledged_by__username"] or ""
    return f"{who} {at:%Y-%m-%d %H:%M}签收".strip()


def ledger_export(
    *, tasks: QuerySet[Task], title: str | None = None, today: dt.date | None = None,
    now: dt.datetime | None = None, progress: Progress | None = None,
) -> bytes:
    """The ledger of `tasks` (any filter, already scoped to the user by the caller, e.g.
    `task_list(user=...).filter(...)`) as .xlsx: one row per task, problem cells merged,
    with each task's light and days left on `today` (default: the local date), and the keys
    (task id, version, row digest) that let the file be imported back.

    Queries: the tasks' values with their problem, inspection and latest progress note; their
    supporting units; the unit tree (for unambiguous unit names). Three in all."""
    today = today or timezone.localdate(now)  # now=None: the local date today
    now = now or timezone.now()
    rows, supporting_of = ledger_rows(
        tasks, "problem_id", "problem__number", "problem__aspect", "problem__text",
        "inspection_id", "inspection__title", "ack_requested_at", "acknowledged_at",
        "acknowledged_by__full_name", "acknowledged_by__username",
    )
    names = UnitNames.load()
    inspections = {t["inspection_id"]: t["inspection__title"] for t in rows}
    if title is None:
        title = (
            f"{next(iter(inspections.values()))}反馈问题整改台账"
            if len(inspections) == 1 else "整改台账"
        )
    # Per unit and per (status, deadline), not per row: ten thousand rows share a few dozen.
    shown_units: dict[int, str] = {}
    states: dict[tuple, object] = {}
    labels = {s.value: str(s.label) for s in TaskStatus}
    priority_labels = {p.value: str(p.label) for p in TaskPriority}

    def unit_name(pk: int) -> str:
        if pk not in shown_units:
            unit = names.by_id.get(pk)
            shown_units[pk] = names.display(unit) if unit else ""
        return shown_units[pk]

    def unit_path(pk: int) -> str:
        # Supporting units in the unit tree's order (Unit's ordering).
        unit = names.by_id.get(pk)
        return unit.path if unit else ""

    def state_of(task: dict):
        key = (task["status"], task["deadline"])
        if key not in states:
            states[key] = deadline_state(
                status=task["status"], deadline=task["deadline"], today=today
            )
        return states[key]

    export_rows = []
    for task in rows:
        supporting = supporting_of.get(task["id"], ())
        state = state_of(task)
        export_rows.append(ExportRow(
            problem_key=task["problem_id"],
            number=task["problem__number"],
            aspect=task["problem__aspect"],
            problem=task["problem__text"],
            title=task["title"],
            measures=task["measures"],
            lead_unit=unit_name(task["lead_unit_id"]),
            supporting_units=[unit_name(pk) for pk in sorted(supporting, key=unit_path)],
            leader=task["responsible_leader"],
            person=task["responsible_person"],
            task_type=task["task_type"],
            deadline=task["deadline"],
            progress=task["latest_progress"] or "",
            status=labels[task["status"]],
            key_task=KEY_TASK_YES if task["is_key"] else "",
            priority=priority_labels[task["priority"]],
            inspection=task["inspection__title"],
            light=state.light,
            light_label=state.light_label,
            days_left=state.text,
            acknowledgement=acknowledgement_text(task),
            key=task["id"],
            version=task["version"],
            digest=task_values(task, supporting=supporting).digest(),
        ))
    return write_ledger(
        export_rows, title=title, with_inspection=len(inspections) > 1,
        exported_at=timezone.localtime(now).isoformat(timespec="seconds"), progress=progress,
    )


# --- The blank template -----------------------------------------------------------------------

_GUIDE_FORMATS = {
    "number": ("数字，如 1、2、3；同一问题的多项任务可合并单元格或重复同一序号", "1"),
    "aspect": ("文字，可不填；也可在问题上方用“一、……方面”一行作为分组标题", "落实主体责任方面"),
    "problem": ("文字；同一问题的多项任务可合并单元格", "巡察反馈的问题原文"),
    "title": ("文字，不超过300字；不填则取整改措施的第一句", "建立健全财务审批制度"),
    "measures": ("文字，可多行", "1.制定……；2.开展……"),
    "lead_unit": (
        "单位全称或简称；同名单位写明上级单位，如“东湖区/城关镇”；可写“牵头单位：甲；配合单位：乙”",
        "市教育局",
    ),
    "supporting_units": ("单位名称，多个用顿号、逗号或换行分隔", "市财政局、市审计局"),
    "leader": ("姓名，不超过100字", "张三"),
    "person": ("姓名，不超过100字", "李四"),
    "deadline": (
        "日期（Excel日期或文字），或“长期坚持”“立行立改（日期）”",
        "2026年6月30日、2026-06-30、2026.6.30、2026年6月底、2026年底、长期坚持、"
        "立行立改（2026年3月31日）",
    ),
    "progress": ("文字；填写后作为一条整改进展记录", "已完成制度起草"),
    "status": ("以下之一，不填视为未启动", STATUS_CHOICES_HINT),
    "key_task": ("重点任务填“是”，否则留空；只有督导人员可以修改", "是"),
    "priority": ("以下之一，不填视为一般；只有督导人员可以修改", PRIORITY_CHOICES_HINT),
}


def ledger_template() -> bytes:
    """The blank ledger (.xlsx) with a second sheet 填写说明: each column, whether required, its
    format and its allowed values (the status words and deadline forms the reader accepts)."""
    guide = [
        (c.label, "必填" if c.required else "选填", *_GUIDE_FORMATS[c.key]) for c in COLUMNS
    ]
    return write_template(guide=guide)
