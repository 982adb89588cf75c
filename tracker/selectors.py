"""Read queries, one per list, shared by the API and the pages. Every list is scoped to the
requesting user before anything else, then narrowed by its FilterSet (tracker.filters), so a
filter means the same on every face (HackSoft's `user_list(filters=...)`)."""

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    DateField,
    Exists,
    Expression,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django_filters import FilterSet

from tracker import access
from tracker.filters import EvidenceFilter, ExtensionFilter, InspectionFilter, TaskFilter
from tracker.models import (
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    Inspection,
    Problem,
    ProgressReport,
    Task,
    TaskAction,
    TaskEvent,
    TaskMonthTally,
    TaskPriority,
    TaskStatus,
    TaskType,
    Unit,
    User,
)


def _filtered(qs: QuerySet, filterset_class: type[FilterSet], filters: Mapping | None):
    """`qs` narrowed by the FilterSet; a filter value it refuses is a ValidationError (the
    API answers 400 with the field's message). No filters (None or an empty mapping, the
    first page of a list): the queryset as it is, without building the FilterSet's form —
    every filter leaves the queryset unchanged on an absent value."""
    if not filters:
        return qs
    filterset = filterset_class(filters, queryset=qs)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def task_list(*, user: User, filters: Mapping | None = None) -> QuerySet[Task]:
    """Tasks the user may see, narrowed by TaskFilter (`unit`: lead or supporting unit in the
    subtree; `lead_unit`: lead unit in the subtree; `overdue`, `status`, …), with everything
    a task list shows in a constant number of queries: lead unit, problem and inspection
    joined, supporting units prefetched."""
    qs = (
        Task.objects.filter(access.visible_tasks_q(user))
        .select_related("lead_unit", "problem", "inspection", "acknowledged_by")
        .prefetch_related("supporting_units")
    )
    return _filtered(qs, TaskFilter, filters)


# The columns one row of a task list shows (the API's list and 我的任务): the task's own and
# those of its lead unit, problem, inspection and acknowledging user, read in the list's one
# query as plain values (no model instances: a page is 50 rows of four objects each).
TASK_ROW_FIELDS = (
    "id", "title", "measures", "status", "task_type", "is_key", "priority",
    "responsible_leader", "responsible_person", "deadline", "original_deadline",
    "progress_percent", "started_at", "completed_at", "closed_at", "version", "created_at",
    "updated_at", "ack_requested_at", "acknowledged_at", "acknowledged_by_id",
    "acknowledged_by__full_name", "acknowledged_by__username",
    "inspection_id", "inspection__title", "inspection__kind", "inspection__team",
    "problem_id", "problem__number", "problem__aspect", "problem__text",
    "lead_unit_id", "lead_unit__name", "lead_unit__short_name",
)


_STATUS_LABELS = {value: str(label) for value, label in TaskStatus.choices}
_TASK_TYPE_LABELS = {value: str(label) for value, label in TaskType.choices}
_PRIORITY_LABELS = {value: str(label) for value, label in TaskPriority.choices}


@dataclass(frozen=True)
class TaskRows:
    """One page of a task list as plain values: `rows` (dicts of TASK_ROW_FIELDS, in the
    list's order, plus any column the caller asked for, `awaiting_ack`, `acknowledged_by` (the
    person's name) and the choices' labels `status_display`, `task_type_display`,
    `priority_display`) and each task's supporting units
    (`supporting[task_id]`: dicts of id, name, short_name in unit-tree order)."""

    rows: list[dict]
    supporting: dict[int, list[dict]]


SUPPORTING_UNITS_JSON = "supporting_units_json"


def _supporting_units_json() -> RawSQL:
    """A task's supporting units as one JSON array of {id, name, short_name} in unit-tree
    order (Unit's own order, as the prefetch gave it), correlated with the list's own
    tracker_task row: a column of the list's query instead of a query of its own. Written per
    database (PostgreSQL's json_agg … ORDER BY; SQLite before 3.44 has no ORDER BY inside an
    aggregate, so the ordered rows come from a subquery); NULL or "[]" when there are none."""
    through = Task.supporting_units.through._meta
    link, unit_table, task_table = (
        connection.ops.quote_name(through.db_table),
        connection.ops.quote_name(Unit._meta.db_table),
        connection.ops.quote_name(Task._meta.db_table),
    )
    rows = (f"FROM {link} su JOIN {unit_table} u ON u.id = su.unit_id "
            f'WHERE su.task_id = {task_table}."id"')
    if connection.vendor == "postgresql":
        sql = ("(SELECT json_agg(json_build_object('id', u.id, 'name', u.name, "
               f"'short_name', u.short_name) ORDER BY u.path)::text {rows})")
    else:
        sql = ("(SELECT json_group_array(json(j)) FROM (SELECT json_object('id', u.id, "
               f"'name', u.name, 'short_name', u.short_name) AS j {rows} ORDER BY u.path))")
    return RawSQL(sql, (), output_field=TextField())


# A page that skips at most this many rows folds its supporting units into its query
# (task_rows(with_supporting=True)): the subquery then runs for at most this many skipped rows
# plus the page's own, about what the separate query costs (one more statement and round trip).
SUPPORTING_FOLD_MAX_OFFSET = 200


def task_rows(tasks: QuerySet[Task], *, extra: tuple[str, ...] = (),
              with_supporting: bool = False) -> QuerySet[dict]:
    """`tasks` (a task_list() queryset, sliced or not) as row values: the same single query
    with only the columns a list shows. The supporting units come from task_rows_page(): one
    more query for the whole page, or, `with_supporting`, a column of this query (a JSON
    array per row). For a list that does not skip rows with OFFSET (the API's cursor), or
    skips few (SUPPORTING_FOLD_MAX_OFFSET): PostgreSQL computes the select list of every row
    an OFFSET skips, so a deep page would run the correlated subquery for each skipped task."""
    qs = tasks.prefetch_related(None)
    if with_supporting:
        qs = qs.annotate(**{SUPPORTING_UNITS_JSON: _supporting_units_json()})
        extra = (*extra, SUPPORTING_UNITS_JSON)
    return qs.values(*TASK_ROW_FIELDS, *extra)


def task_rows_page(rows) -> TaskRows:
    """The rows of one page (task_rows(), sliced) with their supporting units: read from the
    rows when task_rows() folded them in (`with_supporting`), otherwise one query for the
    supporting units of the page's tasks (none for an empty page)."""
    rows = list(rows)
    supporting: dict[int, list[dict]]
    if rows and SUPPORTING_UNITS_JSON in rows[0]:
        supporting = {row["id"]: json.loads(row.pop(SUPPORTING_UNITS_JSON) or "[]")
                      for row in rows}
    else:
        supporting = {row["id"]: [] for row in rows}
        if rows:
            links = (
                Task.supporting_units.through.objects.filter(task_id__in=list(supporting))
                .order_by("unit__path")  # Unit's own order, as the prefetch gave it
                .values_list("task_id", "unit_id", "unit__name", "unit__short_name")
            )
            for task_id, unit_id, name, short_name in links:
                supporting[task_id].append(
                    {"id": unit_id, "name": name, "short_name": short_name})
    for row in rows:
        row["awaiting_ack"] = row["ack_requested_at"] is not None  # as Task.awaiting_ack
        # The choices' labels, as Task.get_<field>_display gives them.
        row["status_display"] = _STATUS_LABELS.get(row["status"], row["status"])
        row["task_type_display"] = _TASK_TYPE_LABELS.get(row["task_type"], row["task_type"])
        row["priority_display"] = _PRIORITY_LABELS.get(row["priority"], row["priority"])
        if row["acknowledged_by_id"] is None:
            row["acknowledged_by"] = None
        else:  # User.display_name, the one rule for a person's name
            row["acknowledged_by"] = User(
                full_name=row["acknowledged_by__full_name"],
                username=row["acknowledged_by__username"],
            ).display_name
    return TaskRows(rows=rows, supporting=supporting)


def inspection_list(*, user: User, filters: Mapping | None = None) -> QuerySet[Inspection]:
    """Inspections the user sees (tracker.access.visible_inspections_q), narrowed by
    InspectionFilter."""
    qs = Inspection.objects.filter(access.visible_inspections_q(user))
    return _filtered(qs, InspectionFilter, filters)


def extension_list(*, user: User, filters: Mapping | None = None) -> QuerySet[DeadlineExtension]:
    """Extension requests on tasks the user sees, narrowed by ExtensionFilter."""
    qs = DeadlineExtension.objects.filter(
        task__in=Task.objects.filter(access.visible_tasks_q(user))
    ).select_related("task__lead_unit", "task__inspection", "requested_by", "decided_by")
    return _filtered(qs, ExtensionFilter, filters)


def extension_review_list(*, user: User) -> QuerySet[DeadlineExtension]:
    """Pending extension requests the user may decide: on tasks whose lead unit they manage
    (tracker.access.managed_tasks_q), oldest first."""
    return extension_list(user=user, filters={"status": ExtensionStatus.PENDING}).filter(
        task__in=Task.objects.filter(access.managed_tasks_q(user))
    ).order_by("requested_at", "id")


def evidence_list(*, user: User, filters: Mapping | None = None) -> QuerySet[Evidence]:
    """Evidence files of tasks the user sees, narrowed by EvidenceFilter; a download reads
    one of these, so a file of a task out of sight is never served."""
    qs = Evidence.objects.filter(
        task__in=Task.objects.filter(access.visible_tasks_q(user))
    ).select_related("uploaded_by")
    return _filtered(qs, EvidenceFilter, filters)


def unit_list_to_manage(*, user: User) -> QuerySet[Unit]:
    """Units the user may make a task's lead or supporting unit (tracker.access.managed_units_q,
    the set behind may_manage_unit), in tree order."""
    return Unit.objects.filter(access.managed_units_q(user)).order_by("path")


def problems_for_tasks(*, user: User) -> QuerySet[Problem]:
    """Problems a new task may be filed under: those the user sees, newest inspection first
    (the units the task gets are checked by the service against the units the user manages)."""
    return (
        Problem.objects.filter(access.visible_problems_q(user))
        .select_related("inspection")
        .order_by("-inspection__feedback_date", "inspection_id", "number")
    )


def task_overdue_list(*, user: User, today: dt.date) -> QuerySet[Task]:
    return task_list(user=user).overdue(today)


def inspections_for_filter(*, user: User) -> QuerySet[Inspection]:
    """The inspections that have at least one task the user sees.

    Asked of the maintained counts (TaskMonthTally, one row per lead unit and inspection among
    its keys, exact at every moment) for the tasks led within the user's units, and of the tasks
    for those seen only through a supporting unit (tracker.access splits the visible tasks
    so): an index probe per inspection, so the filter's cost does not grow with the ledger."""
    led = TaskMonthTally.objects.filter(
        access.visible_by_lead_unit_q(user), inspection=OuterRef("pk"), total__gt=0
    )
    seen = Exists(led)
    if not access.sees_everything(user):
        supported = Task.objects.filter(
            access.visible_through_support_only_q(user), inspection=OuterRef("pk")
        )
        seen |= Exists(supported)
    return Inspection.objects.filter(seen).order_by("-feedback_date", "id")


# The filter's options are shared by everyone who sees the same tasks (access.visible_tasks_key)
# and kept until the ledger's placement of tasks changes (inspection_choices_changed, called
# by the services after commit); the time limit only bounds what a missed change could cost.
INSPECTION_CHOICES_TIMEOUT = 600


def _choices_key(name: str) -> str:
    """A cache key of the filter's, apart for each database (a developer's var/cache may
    outlive a switch of DATABASE_URL; a bench keeps several ledgers)."""
    db = connection.settings_dict
    where = f"{db['HOST']}:{db['PORT']}/{db['NAME']}:{name}"
    return f"tracker:inspection-choices:{hashlib.sha1(where.encode()).hexdigest()}"


def inspection_choices_for_filter(*, user: User) -> list[tuple[int, str]]:
    """(pk, title) of inspections_for_filter(user), in its order: the options of the
    巡视巡察 filter on 我的任务 and 挂图作战, read from the cache when nothing that decides them
    has changed since (at a million tasks the query costs about as much as the list's own)."""
    generation_key = _choices_key("generation")
    key = _choices_key(repr(access.visible_tasks_key(user)))
    found = cache.get_many([generation_key, key])
    generation = found.get(generation_key)
    if generation is None:
        generation = uuid.uuid4().hex
        # add: another process may have set one meanwhile; then read back theirs.
        if not cache.add(generation_key, generation, timeout=None):
            generation = cache.get(generation_key, generation)
    cached = found.get(key)
    if cached is not None and cached[0] == generation:
        return cached[1]
    rows = list(inspections_for_filter(user=user).values_list("pk", "title"))
    cache.set(key, (generation, rows), timeout=INSPECTION_CHOICES_TIMEOUT)
    return rows


def inspection_choices_changed() -> None:
    """Forget every cached inspection filter: an inspection was added, renamed, re-dated or
    removed, or a task was created or changed lead or supporting units, or a unit moved.
    Now, and again once the transaction commits: a reader between the two may have cached
    what was still uncommitted for the first."""
    _new_choices_generation()
    transaction.on_commit(_new_choices_generation)


def _new_choices_generation() -> None:
    cache.set(_choices_key("generation"), uuid.uuid4().hex, timeout=None)


def unit_for_filter(*, user: User, pk: int | None) -> Unit | None:
    """A unit to narrow a list or a dashboard by (drill-down), if the user's scope reaches it."""
    if not pk:
        return None
    return Unit.objects.filter(access.reachable_units_q(user), pk=pk).first()


def ledger_task_list(*, tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks in ledger order (inspection, problem number, creation) with everything a ledger
    row shows: problem, inspection and lead unit joined, supporting units prefetched and the
    latest progress note (整改进展) annotated as `latest_progress`.

    `tasks` is any filter of tasks; callers scope it first (`task_list(user=...)`)."""
    latest = (
        ProgressReport.objects.filter(task=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("note")[:1]
    )
    return (
        tasks.select_related("lead_unit", "problem", "inspection")
        .prefetch_related("supporting_units")
        .annotate(latest_progress=Subquery(latest))
        .order_by("inspection_id", "problem__number", "id")
    )


DEADLINE_SOURCES = {
    "original": "原定完成时限",
    "extension": "批准延期",
    "edit": "修改完成时限",
}


@dataclass(frozen=True)
class DeadlineEntry:
    """One deadline a task has had: its original one, or where a move landed."""

    deadline: dt.date | None  # None: the task was created without one (shown as 无)
    source: str  # a key of DEADLINE_SOURCES
    at: dt.datetime
    actor: User | None
    note: str = ""

    @property
    def label(self) -> str:
        return DEADLINE_SOURCES[self.source]


def task_deadline_history(*, task: Task) -> list[DeadlineEntry]:
    """Every deadline the task ever had, oldest first: the one it was created with (None for a
    task created without one), then each approved extension and each edit that moved it.

    Read from the typed history (TaskEvent.deadline_to). Uses the task's prefetched `events`
    when it has them (the task page), else fetches them once with their actors.
    """
    prefetch_related_objects(
        [task], Prefetch("events", queryset=TaskEvent.objects.select_related("actor"))
    )
    events = list(task.events.all())
    created = next((e for e in events if e.action == TaskAction.CREATE), None)
    entries = [
        DeadlineEntry(
            deadline=task.original_deadline,
            source="original",
            at=created.at if created else task.created_at,
            actor=created.actor if created else None,
        )
    ]
    entries += [
        DeadlineEntry(
            deadline=event.deadline_to,
            source="extension" if event.action == TaskAction.EXTEND_DEADLINE else "edit",
            at=event.at,
            actor=event.actor,
            note=event.note,
        )
        for event in events
        if event.deadline_to is not None
    ]
    return entries


# A deadline move (an approved extension, an edit of the deadline): an event whose typed column
# says where the deadline landed. task_deadline_history lists the same moves.
DEADLINE_MOVE_Q = Q(deadline_to__isnull=False)


def deadline_in_force(*, latest_move: Expression) -> Coalesce:
    """The deadline each task had in force at a moment, as an expression for a Task queryset
    (the as-of rollup): where the latest deadline move (DEADLINE_MOVE_Q) before that moment
    landed, else the deadline the task was created with. `latest_move` is that move's
    deadline_to, NULL when the task had no move yet (tracker.figures.as_of reads it from the
    history in one pass)."""
    return Coalesce(latest_move, F("original_deadline"), output_field=DateField())


def holiday_overrides(*, year: int):
    """The administrators' holiday overrides (节假日安排) of one year, by date."""
    from tracker.models import HolidayOverride

    return HolidayOverride.objects.filter(date__year=year).order_by("date")
