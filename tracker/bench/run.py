"""`manage.py bench`: every figure of issue #13 as the project and as its floor, per role.

A floor is the least work that gives the same answer: the bare SQL aggregate, one DISTINCT ON
pass, a bare Django view running the same single query, one INSERT … SELECT … ON CONFLICT.
Each row says whether the project's answer and the floor's are the same. Only measures: no
code of the project is changed or bypassed here. The pages and the API are reached through
their URLs (the full middleware and DRF stack, in-process), never imported.
"""

import datetime as dt
import json
import logging
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, reset_queries
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from tracker import selectors, workdays
from tracker.bench import urls as bench_urls
from tracker.bench.common import alternating_medians, count_queries, rolled_back
from tracker.bench.ledger import ROLES, create_roles, generate, without_keys
from tracker.deadlines import due_soon_until
from tracker.models import Inspection, Notification, NotificationKind, Reminder, Task, User
from tracker.reminders import services as sweep
from tracker.reminders.rules import deadline_windows
from tracker.services.ledger import ledger_apply, ledger_export
from tracker.web.selectors import task_list_for_page
from tracker.web.views import PAGE_SIZE

KEYS = ["work", "size", "role", "project_ms", "floor_ms", "ratio", "queries", "same"]
API_PAGE = 50  # REST_FRAMEWORK["PAGE_SIZE"]
# The default throttle would cap the bench's client at 20 requests a second.
BENCH_THROTTLE_RATES = {"anon": "1000000/second", "user": "1000000/second"}
SYSTEM = "system"  # the role column of the work no user asks for (the sweep)


@dataclass
class BenchRow:
    work: str
    size: int
    role: str
    project_ms: float
    floor_ms: float | None
    ratio: float | None
    queries: int
    same: bool


@contextmanager
def raised_throttles():
    """The API throttles raised for the bench's runs, in this process only. DRF reads the
    rates into `SimpleRateThrottle.THROTTLE_RATES` when it is imported, so the setting is
    overridden and the class attribute with it; both are restored afterwards."""
    saved = SimpleRateThrottle.THROTTLE_RATES
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": BENCH_THROTTLE_RATES}
    with override_settings(REST_FRAMEWORK=rest):
        SimpleRateThrottle.THROTTLE_RATES = BENCH_THROTTLE_RATES
        try:
            yield
        finally:
            SimpleRateThrottle.THROTTLE_RATES = saved


# --- Floors: bare SQL ------------------------------------------------------------------------

STATUS_FIELDS = ["total", "completed", "basically_completed", "long_term", "not_started",
                 "in_progress", "submitted"]
FIELDS = [*STATUS_FIELDS, "overdue", "due_soon", "closed_on_time"]
STATUS_AGG = """
    count(*) AS total,
    count(*) FILTER (WHERE {s} = 'completed') AS completed,
    count(*) FILTER (WHERE {s} = 'basically_completed') AS basically_completed,
    count(*) FILTER (WHERE {s} = 'long_term') AS long_term,
    count(*) FILTER (WHERE {s} = 'not_started') AS not_started,
    count(*) FILTER (WHERE {s} = 'in_progress') AS in_progress,
    count(*) FILTER (WHERE {s} = 'submitted') AS submitted"""
AGG = STATUS_AGG.format(s="t.status") + """,
    count(*) FILTER (WHERE t.deadline < %(today)s
                     AND t.status NOT IN ('completed', 'long_term')) AS overdue,
    count(*) FILTER (WHERE t.deadline >= %(today)s AND t.deadline <= %(soon)s
                     AND t.status NOT IN ('completed', 'long_term')) AS due_soon,
    count(*) FILTER (WHERE t.status = 'completed' AND (t.deadline IS NULL
        OR (t.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= t.deadline)) AS closed_on_time"""
SUMS = ", ".join(f"sum(p.{f})::bigint AS {f}" for f in FIELDS)


def scope_sql(user: User) -> tuple[str, str]:
    """(the units the role reaches, as a subquery; the WHERE over tasks `t`): the rule book's
    reach (tracker.access) restated in SQL for the floor, for the four bench roles."""
    if user.role == "admin" or user.is_superuser:
        return "SELECT id FROM tracker_unit", "TRUE"
    if user.role == "supervisor":
        unit = user.supervision_root or user.unit
        units = f"SELECT id FROM tracker_unit WHERE path LIKE '{unit.path}%%'"
    else:
        units = f"SELECT id FROM tracker_unit WHERE id = {int(user.unit_id)}"
    where = (f"(t.lead_unit_id IN ({units}) OR EXISTS (SELECT 1 FROM "
             f"tracker_task_supporting_units s WHERE s.task_id = t.id AND s.unit_id IN ({units})))")
    return units, where


# The groupings the bench measures (tracker.figures.rollups.Grouping), and each one's key over
# the tasks `t` for the floor (as the API gives it: an aspect, a kind's code, a "YYYY-MM").
ROLLUP_GROUPINGS = ("inspection", "unit", "total", "aspect", "kind", "month")
GROUP_KEYS = {
    "inspection": ("t.inspection_id", ""),
    "aspect": ("p.aspect", "JOIN tracker_problem p ON p.id = t.problem_id"),
    "kind": ("i.kind", "JOIN tracker_inspection i ON i.id = t.inspection_id"),
    "month": ("to_char(t.deadline, 'YYYY-MM')", ""),
}


def rollup_floor_sql(grouping: str, user: User) -> str:
    units, where = scope_sql(user)
    if grouping == "total":
        return f"SELECT NULL, {AGG} FROM tracker_task t WHERE {where}"
    if grouping in GROUP_KEYS:
        key, join = GROUP_KEYS[grouping]
        return f"SELECT {key}, {AGG} FROM tracker_task t {join} WHERE {where} GROUP BY 1"
    return f"""WITH p AS (SELECT t.lead_unit_id, {AGG} FROM tracker_task t WHERE {where}
                         GROUP BY 1)
               SELECT a.id, {SUMS} FROM tracker_unit a
               JOIN tracker_unit u ON u.path LIKE a.path || '%%'
               JOIN p ON p.lead_unit_id = u.id WHERE a.id IN ({units}) GROUP BY 1"""


AS_OF_DEADLINE = "coalesce(h.moved_to, t.original_deadline)"
AS_OF_AGG = (AGG.replace("t.status", "h.to_status").replace("t.deadline", AS_OF_DEADLINE)
             .replace("t.closed_at", "h.closed_at"))


def as_of_floor_sql(user: User) -> str:
    """One DISTINCT ON pass over the history that carries what the as-of figures need: the
    newest status, the newest deadline move and the latest closing of each task (window
    aggregates over the task's events), then the same aggregate as the rollup's floor."""
    _, where = scope_sql(user)
    return f"""WITH h AS (SELECT DISTINCT ON (e.task_id) e.task_id, e.to_status,
                   (array_agg(e.deadline_to) FILTER (WHERE e.deadline_to IS NOT NULL)
                    OVER w)[1] AS moved_to,
                   max(e.at) FILTER (WHERE e.to_status = 'completed'
                                     AND e.from_status <> 'completed') OVER w AS closed_at
                   FROM tracker_taskevent e WHERE e.at < %(cutoff)s
                   WINDOW w AS (PARTITION BY e.task_id ORDER BY e.at DESC, e.id DESC
                                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                   ORDER BY e.task_id, e.at DESC, e.id DESC)
               SELECT NULL, {AS_OF_AGG}
               FROM h JOIN tracker_task t ON t.id = h.task_id WHERE {where}"""


def bare(sql: str, params: dict, fields: list[str]) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: dict(zip(fields, row[1:], strict=True)) for row in cursor.fetchall()}


def api_figures(data: dict, grouping: str, fields: list[str]) -> dict:
    if grouping == "total":
        return {None: {f: data["total"][f] for f in fields}}
    return {r["key"]: {f: r[f] for f in fields} for r in data["rows"] if r["total"]}


# --- The sweep's floor -----------------------------------------------------------------------
#
# The same work as the sweep, as bare SQL: the deadline stages' reminders, the review stages'
# reminders, today's digest for every recipient with reminders not yet in a message, and the
# reminders attached to it. (The digest's text and its deliveries are the project's own.)

SUPERVISOR_LEVELS = """
sup AS (
    SELECT s.id, su.path, su.depth FROM tracker_user s
    JOIN tracker_unit su ON su.id = coalesce(s.supervision_root_id, s.unit_id)
    WHERE s.role = 'supervisor' AND s.is_active),
cover AS (
    SELECT c.*, sup.id AS user_id,
           dense_rank() OVER (PARTITION BY c.id ORDER BY sup.depth DESC) AS lvl
    FROM cand c JOIN sup ON c.path LIKE sup.path || '%%' WHERE c.audience <> 'unit'),
leveled AS (SELECT cover.*, max(lvl) OVER (PARTITION BY id) AS levels FROM cover)"""

SWEEP_FLOOR = """
WITH w(stage, level, audience, after, up_to) AS (VALUES {windows}),
cand AS (
    SELECT t.id, t.deadline, t.lead_unit_id, u.path, w.stage, w.level, w.audience,
           CASE w.audience WHEN 'unit' THEN t.responsible_person
                ELSE t.responsible_leader END AS name
    FROM tracker_task t JOIN tracker_unit u ON u.id = t.lead_unit_id
    JOIN w ON t.deadline <= w.up_to AND (w.after IS NULL OR t.deadline > w.after)
    WHERE t.status IN ('not_started', 'in_progress') AND t.task_type <> 'long_term'
      AND t.deadline IS NOT NULL),
""" + SUPERVISOR_LEVELS + """,
rows AS (
    SELECT c.id, c.stage, c.level, c.deadline, o.id AS user_id, NULL::bigint AS unit_id
    FROM cand c JOIN tracker_user o ON o.unit_id = c.lead_unit_id
     AND o.role = 'officer' AND o.is_active WHERE c.audience = 'unit'
    UNION
    SELECT id, stage, level, deadline, user_id, NULL FROM leveled
    WHERE lvl = CASE audience WHEN 'supervisors_1' THEN 1 ELSE least(2, levels) END
    UNION
    SELECT c.id, c.stage, c.level, c.deadline, n.id, NULL FROM cand c
    JOIN tracker_user n ON n.unit_id = c.lead_unit_id AND n.full_name = c.name AND n.is_active
    WHERE c.name <> ''
    UNION
    SELECT c.id, c.stage, c.level, c.deadline, NULL, c.lead_unit_id FROM cand c
    JOIN tracker_unit u ON u.id = c.lead_unit_id
    WHERE u.wecom_webhook_url <> '' OR u.dingtalk_webhook_url <> '')
INSERT INTO tracker_reminder (task_id, stage, level, deadline, recipient_user_id,
                              recipient_unit_id, recorded_on, created_at)
SELECT id, stage, level, deadline, user_id, unit_id, %(today)s, %(now)s FROM rows
ON CONFLICT DO NOTHING RETURNING task_id, stage, deadline, recipient_user_id, recipient_unit_id
"""

REVIEW_FLOOR = """
WITH d(day, stage, level, audience, deadline) AS (VALUES {days}),
cand AS (
    SELECT t.id, d.deadline, u.path, d.stage, d.level, d.audience
    FROM tracker_task t JOIN tracker_unit u ON u.id = t.lead_unit_id
    JOIN d ON (t.completed_at AT TIME ZONE 'Asia/Shanghai')::date = d.day
    WHERE t.status = 'submitted'),
""" + SUPERVISOR_LEVELS + """
INSERT INTO tracker_reminder (task_id, stage, level, deadline, recipient_user_id,
                              recipient_unit_id, recorded_on, created_at)
SELECT DISTINCT id, stage, level, deadline, user_id, NULL::bigint, %(today)s, %(now)s
FROM leveled WHERE lvl = 1 OR (audience = 'supervisors_1_2' AND lvl = least(2, levels))
ON CONFLICT DO NOTHING RETURNING task_id, stage, deadline, recipient_user_id, recipient_unit_id
"""

DIGEST_FLOOR = """
INSERT INTO tracker_notification (kind, {col}, day, created_at, title, body, items,
                                  reminder_count, overdue_count)
SELECT DISTINCT 'digest', {col}, %(today)s::date, %(now)s, '', '', '[]'::jsonb, 0, 0
FROM tracker_reminder WHERE notification_id IS NULL AND {col} IS NOT NULL {only}
ON CONFLICT DO NOTHING RETURNING {col};
"""

ATTACH_FLOOR = """
UPDATE tracker_reminder r SET notification_id = n.id FROM tracker_notification n
WHERE r.notification_id IS NULL AND n.{col} = r.{col} AND n.kind = 'digest'
  AND n.day = %(today)s::date {only}
"""


def reminders_floor(stages, review_stages, today: dt.date, now: dt.datetime) -> set:
    """The reminders of the deadline and review stages, as two INSERT … SELECT statements."""
    windows, params = [], {"today": today, "now": now}
    for n, (stage, after, up_to) in enumerate(deadline_windows(stages, today)):
        windows.append(f"(%(s{n})s, %(l{n})s, %(a{n})s, %(f{n})s::date, %(u{n})s::date)")
        params |= {f"s{n}": stage.code, f"l{n}": stage.level, f"a{n}": stage.audience,
                   f"f{n}": after, f"u{n}": up_to}
    made = set()
    with connection.cursor() as cursor:
        if windows:
            cursor.execute(SWEEP_FLOOR.format(windows=", ".join(windows)), params)
            made |= set(cursor.fetchall())
        days = []
        # The submission days' review deadlines: the rule book's working-day arithmetic.
        for n, row in enumerate(sweep.review_days(stages=review_stages, today=today)):
            days.append(f"(%(d{n})s::date, %(rs{n})s, %(rl{n})s, %(ra{n})s, %(rd{n})s::date)")
            params |= dict(zip([f"d{n}", f"rs{n}", f"rl{n}", f"ra{n}", f"rd{n}"], row,
                               strict=True))
        if days:
            cursor.execute(REVIEW_FLOOR.format(days=", ".join(days)), params)
            made |= set(cursor.fetchall())
    return made


def digests_floor(today: dt.date, now: dt.datetime, user_id: int | None = None) -> set:
    """Today's digest rows for the recipients with reminders not yet in a message (or for one
    person), and their reminders attached: one INSERT … SELECT and one UPDATE per kind."""
    made = set()
    params = {"today": today, "now": now}
    with connection.cursor() as cursor:
        for col in ("recipient_user_id", "recipient_unit_id"):
            if user_id is not None and col == "recipient_unit_id":
                continue
            only = f"AND {col} = {int(user_id)}" if user_id is not None else ""
            cursor.execute(DIGEST_FLOOR.format(col=col, only=only), params)
            made |= {(col, row[0]) for row in cursor.fetchall()}
            cursor.execute(ATTACH_FLOOR.format(col=col, only=only.replace(col, "r." + col)),
                           params)
    return made


def sweep_floor(stages, review_stages, today: dt.date, now: dt.datetime):
    return reminders_floor(stages, review_stages, today, now), digests_floor(today, now)


# --- The bench -------------------------------------------------------------------------------

TASK_LINK = re.compile(r'href="/tasks/(\d+)/"')


def _ids_in_page(html: str) -> list[int]:
    seen: list[int] = []
    for pk in map(int, TASK_LINK.findall(html)):
        if pk not in seen:
            seen.append(pk)
    return seen


def _list_statement(queries: list[dict]) -> str:
    """The list query among a request's statements: the one page of tasks (a LIMIT on
    tracker_task), not the page count, the prefetches or the session."""
    found = [q["sql"] for q in queries
             if q["sql"].lstrip().startswith('SELECT "tracker_task".')
             and 'FROM "tracker_task"' in q["sql"]
             and " LIMIT " in q["sql"] and "COUNT(" not in q["sql"].upper()]
    if len(found) != 1:
        raise RuntimeError(f"任务列表的查询应恰有一条，实际 {len(found)} 条")
    return found[0]


def _row(work, size, role, project_ms, floor_ms, queries, same) -> BenchRow:
    ratio = round(project_ms / floor_ms, 2) if floor_ms else None
    return BenchRow(work, size, role, round(project_ms, 2),
                    None if floor_ms is None else round(floor_ms, 2), ratio, queries, same)


# The works `--works` may pick, each a method of Bench (every work when none is named).
WORK_NAMES = ("rollups", "as_of", "dashboard", "task_page", "task_api", "sweep", "ledger")


class Bench:
    def __init__(self, size: int, repeat: int, out=None, works=WORK_NAMES):
        self.size, self.repeat, self.out = size, repeat, out
        self.works = set(works)
        self.rows: list[BenchRow] = []
        self.today = timezone.localdate()
        self.users = {key: User.objects.get(username=name) for key, (name, _) in ROLES.items()}

    def add(self, row: BenchRow) -> None:
        self.rows.append(row)
        if self.out is not None:
            self.out.write(f"  {row.size} {row.work} [{row.role}]: 项目 {row.project_ms} ms，"
                           f"下限 {row.floor_ms} ms，{row.queries} 次查询，"
                           f"结果一致 {'是' if row.same else '否'}")

    def client(self, user: User) -> Client:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        return client

    def get(self, client: Client, url: str, params=None):
        response = client.get(url, params or {})
        if response.status_code != 200:
            raise RuntimeError(f"{url} {params}: HTTP {response.status_code}")
        return response

    def measured(self, client: Client, url: str, params=None):
        """The response and its statement count (the session and user look-ups included)."""
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = self.get(client, url, params)
        return response, list(captured.captured_queries)

    def run(self) -> list[BenchRow]:
        with raised_throttles(), override_settings(ROOT_URLCONF="tracker.bench.urls"):
            for role, user in self.users.items():
                client = self.client(user)
                if "rollups" in self.works:
                    self.rollups(role, user, client)
                if "as_of" in self.works:
                    self.as_of(role, user, client)
                if "dashboard" in self.works and (user.is_superuser or user.role == "supervisor"):
                    self.dashboard(role, user, client)
                if "task_page" in self.works:
                    self.task_page(role, user, client)
                if "task_api" in self.works:
                    self.task_api(role, user, client)
            if "sweep" in self.works:
                self.reminder_sweep()
            if "ledger" in self.works:
                self.ledger()
        return self.rows

    def rollups(self, role, user, client):
        params = {"today": self.today, "soon": due_soon_until(self.today)}
        for grouping in ROLLUP_GROUPINGS:
            url_params = {"group_by": grouping}
            response, queries = self.measured(client, "/api/v1/rollups/", url_params)
            sql = rollup_floor_sql(grouping, user)
            same = api_figures(response.json(), grouping, FIELDS) == bare(sql, params, FIELDS)
            project_ms, floor_ms = alternating_medians(
                lambda p=url_params: self.get(client, "/api/v1/rollups/", p),
                lambda sql=sql: bare(sql, params, FIELDS), self.repeat)
            self.add(_row(f"rollup by {grouping}", self.size, role, project_ms, floor_ms,
                          len(queries), same))

    def as_of(self, role, user, client):
        day = self.today - dt.timedelta(days=365)
        cutoff = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min,
                                     tzinfo=ZoneInfo(settings.TIME_ZONE))
        url_params = {"group_by": "total", "as_of": day.isoformat()}
        response, queries = self.measured(client, "/api/v1/rollups/", url_params)
        sql = as_of_floor_sql(user)
        params = {"cutoff": cutoff, "today": day, "soon": due_soon_until(day)}
        same = api_figures(response.json(), "total", FIELDS) == bare(sql, params, FIELDS)
        project_ms, floor_ms = alternating_medians(
            lambda: self.get(client, "/api/v1/rollups/", url_params),
            lambda: bare(sql, params, FIELDS), self.repeat)
        self.add(_row(f"as-of rollup ({day})", self.size, role, project_ms, floor_ms,
                      len(queries), same))

    def dashboard(self, role, user, client):
        response, queries = self.measured(client, "/dashboard/")
        statements = [q["sql"] for q in queries
                      if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]

        def floor():
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()

        html = response.content.decode()
        shown = {k: int(m.group(1)) for k in ("total-tasks", "total-completed")
                 if (m := re.search(rf'id="{k}">(\d+)<', html))}
        aggregate_sql = rollup_floor_sql("total", user)
        aggregate_params = {"today": self.today, "soon": due_soon_until(self.today)}
        total = bare(aggregate_sql, aggregate_params, FIELDS)[None]
        same = shown == {"total-tasks": total["total"], "total-completed": total["completed"]}
        project_ms, floor_ms = alternating_medians(
            lambda: self.get(client, "/dashboard/"), floor, self.repeat)
        self.add(_row("挂图作战 dashboard", self.size, role, project_ms, floor_ms,
                      len(queries), same))
        # The second bar: the whole page against ONE bare full-table aggregate of the
        # role's tasks (the scoped total), the least any figure of the ledger costs.
        project_ms, floor_ms = alternating_medians(
            lambda: self.get(client, "/dashboard/"),
            lambda: bare(aggregate_sql, aggregate_params, FIELDS), self.repeat)
        self.add(_row("挂图作战 dashboard vs one full-table aggregate", self.size, role,
                      project_ms, floor_ms, len(queries), same))

    def bare_list_view(self, statement: str, render, client: Client):
        """A bare Django view running `statement`, the list query the project itself issued
        for this request, and rendering its rows with `render`: the floor of a list is the
        same single query and the least rendering. It is requested through the same stack as
        the project (tracker.bench.urls: session, login and the site's middleware), as the
        issue's requests per second were measured, so the ratio is what DRF, serializers and
        templates add to the query."""

        def view(request):
            with connection.cursor() as cursor:
                cursor.execute(statement)
                columns = [column.name for column in cursor.description]
                return render(columns, cursor.fetchall())

        def floor():
            bench_urls.current_floor.view = view
            return self.get(client, bench_urls.FLOOR_PATH)

        return floor

    def task_page(self, role, user, client):
        count = selectors.task_list(user=user).count()
        last = max(1, -(-count // PAGE_SIZE))
        for label, page in (("page 1", 1), ("deep page", last)):
            workdays.is_workday(self.today)  # see task_api
            response, queries = self.measured(client, "/tasks/", {"page": page})
            statement = _list_statement(queries)

            def render(columns, rows):  # a link to each task (id first) with its title
                title = columns.index("title")
                return HttpResponse("".join(
                    f'<a href="/tasks/{row[0]}/">{row[title]}</a>\n' for row in rows))

            floor = self.bare_list_view(statement, render, client)
            shown = _ids_in_page(response.content.decode())
            offset = (page - 1) * PAGE_SIZE  # and the order is the page's rule's
            expected = list(task_list_for_page(user=user).values_list("id", flat=True)[
                offset:offset + PAGE_SIZE])
            same = shown == _ids_in_page(floor().content.decode()) == expected
            project_ms, floor_ms = alternating_medians(
                lambda page=page: self.get(client, "/tasks/", {"page": page}), floor,
                self.repeat)
            self.add(_row(f"我的任务 {label} (p.{page})", self.size, role, project_ms, floor_ms,
                          len(queries), same))

    def task_api(self, role, user, client):
        # The working-day calendar re-reads its generation (one statement) at most every
        # WORKDAY_CALENDAR_RECHECK_SECONDS, in whichever request comes next: counted with the
        # calendar fresh, a list's statements do not depend on how long the rows before took.
        workdays.is_workday(self.today)
        response, queries = self.measured(client, "/api/v1/tasks/")
        statement = _list_statement(queries)

        def render(columns, rows):  # the rows as they come (the task's id first; the joined
            # tables repeat column names, so lists), without the cursor's look-ahead row
            return JsonResponse({"columns": columns,
                                 "results": [list(row) for row in rows[:API_PAGE]]})

        floor = self.bare_list_view(statement, render, client)
        expected = list(selectors.task_list(user=user).order_by("-id").values_list(
            "id", flat=True)[:API_PAGE])
        same = [r["id"] for r in response.json()["results"]] == [
            r[0] for r in json.loads(floor().content)["results"]] == expected
        project_ms, floor_ms = alternating_medians(
            lambda: self.get(client, "/api/v1/tasks/"), floor, self.repeat)
        self.add(_row("task list API page 1", self.size, role, project_ms, floor_ms,
                      len(queries), same))

    def reminder_sweep(self):
        tz = ZoneInfo(settings.TIME_ZONE)
        now = dt.datetime.combine(self.today, dt.time(9), tzinfo=tz)
        stages = sweep.configured_stages()
        review_stages = sweep.configured_review_stages()
        codes = {s.code for s in stages + review_stages}

        def written():
            reminders = set(Reminder.objects.filter(stage__in=codes).values_list(
                "task_id", "stage", "deadline", "recipient_user_id", "recipient_unit_id"))
            digests = {(col, pk) for col in ("recipient_user_id", "recipient_unit_id")
                       for pk in Notification.objects.filter(
                           kind=NotificationKind.DIGEST, day=self.today,
                           **{f"{col}__isnull": False}).values_list(col, flat=True)}
            return reminders, digests

        def project():
            sweep.reminders_sweep(now=now, requeue=False)
            return written()

        def floor():
            return sweep_floor(stages, review_stages, self.today, now)

        def second_run():
            """The sweep again once everything is recorded: nothing to record or send."""
            sweep.reminders_sweep(now=now, requeue=False)
            runs = count_queries(lambda: sweep.reminders_sweep(now=now, requeue=False))
            medians = alternating_medians(
                lambda: sweep.reminders_sweep(now=now, requeue=False), floor, self.repeat)
            return runs, medians, written()

        def one_digest():
            """The digest of the person with the most reminders, once they are recorded."""
            reminders_floor(stages, review_stages, self.today, now)
            top = (Reminder.objects.filter(notification__isnull=True,
                                           recipient_user__isnull=False)
                   .values("recipient_user").annotate(n=Count("id")).order_by("-n").first())
            if top is None:
                return None
            uid = top["recipient_user"]

            def compose():
                return rolled_back(lambda: sweep.digests_compose_batch(
                    recipient_field="recipient_user", recipient_ids=[uid], today=self.today,
                    now=now, stages=stages + review_stages))

            def bare():
                return rolled_back(lambda: digests_floor(self.today, now, user_id=uid))

            made, queries = count_queries(compose)
            same = made[0] == 1 and bare() == {("recipient_user_id", uid)}
            return top["n"], queries, same, alternating_medians(compose, bare, self.repeat)

        log = logging.getLogger(sweep.__name__)
        level, log.level = log.level, logging.WARNING  # one info line per sweep otherwise
        try:
            made, queries = count_queries(lambda: rolled_back(project))
            same = made == rolled_back(floor) and bool(made[0])
            project_ms, floor_ms = alternating_medians(
                lambda: rolled_back(project), lambda: rolled_back(floor), self.repeat)
            self.add(_row(f"reminder sweep ({len(made[0])} reminders, {len(made[1])} digests)",
                          self.size, SYSTEM, project_ms, floor_ms, queries, same))
            (_, again), (project_ms, floor_ms), after = rolled_back(second_run)
            self.add(_row("reminder sweep, second run (nothing new)", self.size, SYSTEM,
                          project_ms, floor_ms, again, after == made))
            digest = rolled_back(one_digest)
            if digest is not None:
                tasks, queries, same, (project_ms, floor_ms) = digest
                self.add(_row(f"one supervisor's digest ({tasks} reminders)", self.size,
                              SYSTEM, project_ms, floor_ms, queries, same))
        finally:
            log.level = level

    def ledger(self):
        """One inspection's ledger (about size/40 rows), exported and imported back unchanged
        by the city supervisor, as the ledger page does: the tasks they see, then the file."""
        actor = self.users["city_supervisor"]
        inspection = Inspection.objects.order_by("id").first()
        tasks = selectors.task_list(user=actor).filter(inspection=inspection)
        rows = tasks.count()
        limit = settings.TRACKER_LEDGER_MAX_ROWS
        if rows > limit:  # past about 800k tasks: the problems that fit in one importable file
            numbers = list(tasks.order_by("problem__number").values_list(
                "problem__number", flat=True))
            tasks = tasks.filter(problem__number__lt=numbers[limit])
            rows = tasks.count()
        data, queries = count_queries(lambda: ledger_export(tasks=tasks))
        project_ms, _ = alternating_medians(lambda: ledger_export(tasks=tasks), None,
                                            self.repeat)
        self.add(_row(f"Excel ledger export ({rows} rows)", self.size, "city_supervisor",
                      project_ms, None, queries, bool(data) and rows > 0))

        def apply():
            return rolled_back(lambda: ledger_apply(inspection=inspection, actor=actor,
                                                    data=data))

        result, queries = count_queries(apply)
        project_ms, _ = alternating_medians(apply, None, self.repeat)
        same = result.unchanged == rows and not result.tasks_updated and not result.conflicts
        self.add(_row(f"Excel ledger import ({rows} rows, unchanged)", self.size,
                      "city_supervisor", project_ms, None, queries, same))

        # The same rows as an inspection's first ledger: every row a new task.
        copied = without_keys(data)

        def first_import():
            def run():
                empty = Inspection.objects.create(
                    title="基准巡察（首次导入）", kind=inspection.kind, team=inspection.team,
                    target=inspection.target, target_unit=inspection.target_unit,
                    feedback_date=inspection.feedback_date,
                )
                return ledger_apply(inspection=empty, actor=actor, data=copied)
            return rolled_back(run)

        result, queries = count_queries(first_import)
        project_ms, _ = alternating_medians(first_import, None, self.repeat)
        self.add(_row(f"Excel ledger import ({rows} rows, all new)", self.size,
                      "city_supervisor", project_ms, None, queries,
                      result.tasks_created == rows and not result.conflicts))


def run_bench(*, sizes: list[int], repeat: int, seed: int = 20260301, out=None,
              works=WORK_NAMES, reuse: bool = False):
    """`reuse`: keep the ledger already in the database when it has exactly `size` tasks
    (one generated by an earlier run with the same seed) instead of generating it again."""
    rows: list[BenchRow] = []
    for size in sizes:
        started = time.perf_counter()
        if reuse and Task.objects.count() == size:
            if out is not None:
                out.write(f"沿用库中已有的 {size} 个任务")
        else:
            generate(size, seed)
            if out is not None:
                out.write(f"生成 {size} 个任务用时 {time.perf_counter() - started:.1f} 秒")
        create_roles()
        # Earlier runs' rolled-back work (sweeps, imports) leaves dead rows behind, and the
        # planner's estimates with them (150k dead 回头看 rows once made the dashboard hash the
        # whole task table): every run starts from a vacuumed, analysed ledger.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        with override_settings(DEBUG=False):  # no query log while timing, as in production
            rows += Bench(size, repeat, out, works).run()
    return rows


def as_dicts(rows: list[BenchRow]) -> list[dict]:
    return [asdict(r) for r in rows]


def table(rows: list[BenchRow]) -> str:
    lines = ["| work | size | role | project ms | floor ms | ratio | queries | same |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        floor = "—" if r.floor_ms is None else f"{r.floor_ms:.1f}"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.work} | {r.size:,} | {r.role} | {r.project_ms:.1f} | {floor} | "
                     f"{ratio} | {r.queries} | {'yes' if r.same else 'no'} |")
    return "\n".join(lines)
