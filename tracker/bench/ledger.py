"""The generated ledger every bench measures against (PostgreSQL only, COPY).

Units: the city, 100 city departments, 12 counties of 16 townships each (305); 40 inspections
of 25 problems; N tasks in the status mix of a ledger two years on, each with its history
(create, start, submit, close...), so that as-of rollups have something to read, and each
closed task with its 回头看. Users: the
four roles the bench measures as (see ROLES).
"""

import datetime as dt
import io
import random
import tempfile

from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from tracker.figures.tallies import tally_rebuild
from tracker.ledger_excel.columns import KEY_COLUMN
from tracker.models import InspectionKind, Role, Unit, User
from tracker.selectors import inspection_choices_changed

KINDS = list(InspectionKind.values)
ASPECTS = [
    "落实党中央决策部署方面", "落实全面从严治党责任方面", "落实中央八项规定精神方面",
    "选人用人和基层党组织建设方面", "巡视整改和成果运用方面", "重点领域风险防控方面",
]
# status, share, task_type, history actions after "create"
MIX = [
    ("completed", 60, "by_deadline", ["start", "submit", "close"]),
    ("basically_completed", 10, "by_deadline", ["start", "mark_basically_completed"]),
    ("long_term", 5, "long_term", ["mark_long_term"]),
    ("not_started", 5, "by_deadline", []),
    ("in_progress", 15, "by_deadline", ["start"]),
    ("submitted", 5, "by_deadline", ["start", "submit"]),
]
TO_STATUS = {
    "start": "in_progress", "submit": "submitted", "close": "completed",
    "mark_basically_completed": "basically_completed", "mark_long_term": "long_term",
}

def without_keys(data: bytes) -> bytes:
    """An exported ledger with its 系统编号 column blank: every row a new task (an
    inspection's first import, as a copy of another's ledger)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    column = next(i + 1 for i, c in enumerate(ws[2]) if c.value == KEY_COLUMN.label)
    for row in range(3, ws.max_row + 1):
        ws.cell(row, column).value = None
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _copy(cursor, table_name: str, columns: list[str], lines) -> None:
    """COPY rows (tab-separated text lines) into a table, in chunks."""
    sql = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        buffer = io.StringIO()
        for n, line in enumerate(lines, 1):
            buffer.write(line)
            if n % 50000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _ts(value: dt.datetime) -> str:
    return value.isoformat()


def generate(size: int, seed: int) -> None:
    rng = random.Random(seed)
    now = timezone.now()
    inspection_choices_changed()  # the ledger is written below the services
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        cursor.execute(
            "TRUNCATE tracker_taskevent, tracker_task_supporting_units, tracker_progressreport, "
            "tracker_evidence, tracker_deadlineextension, tracker_task, tracker_problem, "
            "reports_rollupsnapshot, tracker_inspection, tracker_user_groups, "
            "tracker_user_user_permissions, authtoken_token, tracker_user, tracker_unit "
            "RESTART IDENTITY CASCADE"
        )
        # Units: the city, 100 city departments, 12 counties of 16 townships each (305).
        units = [(1, "江屿市委", "party_committee", None, "/1/", 0)]
        next_id = 2
        for i in range(100):
            units.append((next_id, f"市直单位{i + 1}", "city_department", 1, f"/1/{next_id}/", 1))
            next_id += 1
        for c in range(12):
            county = next_id
            units.append((county, f"区县{c + 1}", "county", 1, f"/1/{county}/", 1))
            next_id += 1
            for t in range(16):
                units.append((next_id, f"区县{c + 1}乡镇{t + 1}", "township", county,
                              f"/1/{county}/{next_id}/", 2))
                next_id += 1
        _copy(cursor, "tracker_unit",
              ["id", "name", "short_name", "kind", "parent_id", "path", "depth", "sort_order",
               "wecom_webhook_url", "dingtalk_webhook_url", "dingtalk_secret"],
              (f"{u[0]}\t{u[1]}\t\t{u[2]}\t{u[3] or chr(92) + 'N'}\t{u[4]}\t{u[5]}\t0\t\t\t\n"
               for u in units))
        unit_ids = [u[0] for u in units]

        # Inspections: 40 rounds over three years, 25 problems each.
        inspections, problems = [], []
        for i in range(1, 41):
            feedback = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 900))
            inspections.append((i, feedback))
            for n in range(1, 26):
                problems.append((len(problems) + 1, i, rng.choice(ASPECTS), n, feedback))
        _copy(cursor, "tracker_inspection",
              ["id", "title", "kind", "mode", "team", "target", "feedback_date",
               "rectification_deadline", "created_at"],
              (f"{i}\t第{i}轮巡视巡察反馈意见整改\t{KINDS[i % len(KINDS)]}\tregular\t第{i}组\t"
               f"江屿市\t{f}\t{f + dt.timedelta(days=365)}\t{_ts(now)}\n"
               for i, f in inspections))
        _copy(cursor, "tracker_problem", ["id", "inspection_id", "aspect", "number", "text"],
              (f"{p[0]}\t{p[1]}\t{p[2]}\t{p[3]}\t反馈问题{p[0]}\n" for p in problems))

        weights = [s for _, s, _, _ in MIX]
        # History rows go to a scratch file while the tasks stream, then are copied in turn.
        events = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed below)
        event_id = 0

        def task_lines():
            nonlocal event_id
            for task_id in range(1, size + 1):
                pid, iid, _, _, feedback = rng.choice(problems)
                status, _, task_type, actions = rng.choices(MIX, weights)[0]
                created = dt.datetime.combine(
                    feedback + dt.timedelta(days=rng.randrange(1, 20)), dt.time(9),
                    tzinfo=dt.UTC,
                )
                deadline = feedback + dt.timedelta(days=rng.randrange(30, 500))
                if task_type == "long_term" and rng.random() < 0.5:
                    deadline = None
                at = created
                stamps = {}
                event_id += 1
                events.write(f"{event_id}\t{task_id}\t{_ts(at)}\tcreate\t\tnot_started\t\t{{}}\n")
                previous = "not_started"
                for action in actions:
                    step = dt.timedelta(days=rng.randrange(1, 120), hours=rng.randrange(0, 24))
                    at = min(at + step, now - dt.timedelta(minutes=1))
                    stamps[action] = at
                    event_id += 1
                    events.write(f"{event_id}\t{task_id}\t{_ts(at)}\t{action}\t{previous}\t"
                                 f"{TO_STATUS[action]}\t\t{{}}\n")
                    previous = TO_STATUS[action]
                started = stamps.get("start")
                done = stamps.get("submit") or stamps.get("mark_basically_completed")
                if status not in ("submitted", "completed", "basically_completed"):
                    done = None
                closed = stamps.get("close")
                n = r"\N"
                yield (
                    f"{task_id}\t{iid}\t{pid}\t整改任务{task_id}\t整改措施{task_id}：建立台账，逐项销号。\t"
                    f"{task_type}\t"
                    f"{rng.choice(unit_ids)}\t\t\t{deadline or n}\t{deadline or n}\t{status}\t0\t"
                    f"{_ts(started) if started else n}\t"
                    f"{_ts(done) if done else n}\t"
                    f"{_ts(closed) if closed else n}\t1\t{_ts(created)}\t{_ts(at)}\t"
                    # One task in twenty a 重点任务 of some priority (no draw from the seed's
                    # sequence: the rest of the ledger is as before).
                    f"{'t' if task_id % 20 == 0 else 'f'}\t"
                    f"{1 + task_id // 20 % 4 if task_id % 20 == 0 else 1}\n"
                )

        # The tallies' triggers would count the copied tasks; the ledger is counted once
        # instead, after the COPY and the re-checks (tracker.figures.tallies.tally_rebuild).
        cursor.execute("ALTER TABLE tracker_task DISABLE TRIGGER tracker_task_tally")
        cursor.execute("ALTER TABLE tracker_task DISABLE TRIGGER tracker_task_tally_insert")
        try:
            _copy(cursor, "tracker_task",
                  ["id", "inspection_id", "problem_id", "title", "measures", "task_type",
                   "lead_unit_id", "responsible_leader", "responsible_person", "deadline",
                   "original_deadline", "status", "progress_percent", "started_at", "completed_at",
                   "closed_at", "version", "created_at", "updated_at", "is_key", "priority"],
                  task_lines())
        finally:
            cursor.execute("ALTER TABLE tracker_task ENABLE TRIGGER tracker_task_tally")
            cursor.execute("ALTER TABLE tracker_task ENABLE TRIGGER tracker_task_tally_insert")
        events.seek(0)
        _copy(cursor, "tracker_taskevent",
              ["id", "task_id", "at", "action", "from_status", "to_status", "note", "data"],
              events)
        events.close()
        for table_name in ("tracker_unit", "tracker_inspection", "tracker_problem", "tracker_task",
                           "tracker_taskevent"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                           f"(SELECT max(id) FROM {table_name}))")
    users = create_roles()
    _generate_rechecks(decided_by=users["admin"].pk)
    tally_rebuild()  # the tasks and their re-checks, counted once (triggers off for the copies)
    # Fresh statistics and visibility map, as autovacuum would have them on a live ledger.
    with connection.cursor() as cursor:
        for table_name in ("tracker_unit", "tracker_inspection", "tracker_problem", "tracker_task",
                           "tracker_taskevent", "tracker_tasktally", "tracker_taskmonthtally",
                           "tracker_eventtally", "tracker_taskrecheck"):
            cursor.execute(f"VACUUM ANALYZE {table_name}")


def _generate_rechecks(*, decided_by: int) -> None:
    """Every 已销号 task's 回头看 (docs/rechecks.md), six months after its closing: still
    scheduled when that is to come; past it, one in twenty due, one in twenty failed, the
    rest confirmed. A ledger two years on has about as many re-checks as closed tasks, and
    the rollups count them (no draw from the seed's sequence: the rest is as before). The
    tallies are rebuilt afterwards."""
    with connection.cursor() as cursor:
        # Counted with the tasks afterwards (tally_rebuild), not by the statement trigger.
        trigger = "tracker_recheck_tally_insert"
        cursor.execute(f"ALTER TABLE tracker_taskrecheck DISABLE TRIGGER {trigger}")
        cursor.execute(
            """
            INSERT INTO tracker_taskrecheck (
                task_id, due_on, state, scheduled_at, scheduled_by_id, became_due_at, recurred,
                report_note, reported_at, reported_by_id, decision_note, decided_at,
                decided_by_id)
            SELECT id, due::date, state, closed_at, NULL,
                   CASE WHEN state = 'scheduled' THEN NULL ELSE due END,
                   CASE WHEN state IN ('scheduled', 'due') THEN NULL ELSE false END,
                   '', CASE WHEN state IN ('scheduled', 'due') THEN NULL
                            ELSE due + interval '10 days' END,
                   CASE WHEN state IN ('scheduled', 'due') THEN NULL ELSE %(user)s END,
                   '', CASE WHEN state IN ('scheduled', 'due') THEN NULL
                            ELSE due + interval '20 days' END,
                   CASE WHEN state IN ('scheduled', 'due') THEN NULL ELSE %(user)s END
            FROM (
                SELECT id, closed_at, closed_at + interval '6 months' AS due,
                       CASE WHEN closed_at + interval '6 months' > now() THEN 'scheduled'
                            WHEN id %% 20 = 0 THEN 'due'
                            WHEN id %% 20 = 1 THEN 'failed'
                            ELSE 'confirmed' END AS state
                FROM tracker_task WHERE status = 'completed'
            ) AS closed
            """,
            {"user": decided_by},
        )
        cursor.execute(f"ALTER TABLE tracker_taskrecheck ENABLE TRIGGER {trigger}")


# The users the bench measures as: role key -> (username, Chinese label).
ROLES = {
    "admin": ("bench-admin", "系统管理员"),
    "city_supervisor": ("bench-city", "市级督导（市委）"),
    "district_supervisor": ("bench-district", "区县督导（区县1）"),
    "officer": ("bench-officer", "联络员（区县1乡镇1）"),
}


def create_roles() -> dict[str, User]:
    """The four users, on the generated unit tree (idempotent)."""
    root = Unit.objects.get(parent__isnull=True, name="江屿市委")
    district = Unit.objects.get(name="区县1")
    township = Unit.objects.get(name="区县1乡镇1")
    spec = {
        "admin": {"role": Role.ADMIN, "is_superuser": True, "is_staff": True},
        "city_supervisor": {"role": Role.SUPERVISOR, "unit": root, "is_staff": True},
        "district_supervisor": {"role": Role.SUPERVISOR, "unit": district, "is_staff": True},
        "officer": {"role": Role.OFFICER, "unit": township},
    }
    users = {}
    for key, (username, label) in ROLES.items():
        users[key], _ = User.objects.get_or_create(
            username=username, defaults={"full_name": label, **spec[key]}
        )
    return users
