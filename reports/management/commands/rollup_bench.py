"""Benchmark the rollups on PostgreSQL: a generated ledger at each size, every grouping timed
through the API stack in-process against the bare SQL aggregate that yields the same numbers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_rollups_bench \\
        python manage.py rollup_bench --sizes 10000,100000,1000000

It wipes the ledger tables of the database it runs on, so it refuses any database whose name
does not end in "_bench".
"""

import datetime as dt
import io
import random
import statistics
import tempfile
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tracker.deadlines import due_soon_until
from tracker.figures.rollups import NO_ASPECT_LABEL
from tracker.models import InspectionKind, Role, User

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

AGG = """
    count(*) AS total,
    count(*) FILTER (WHERE t.status = 'completed') AS completed,
    count(*) FILTER (WHERE t.status = 'basically_completed') AS basically_completed,
    count(*) FILTER (WHERE t.status = 'long_term') AS long_term,
    count(*) FILTER (WHERE t.status = 'not_started') AS not_started,
    count(*) FILTER (WHERE t.status = 'in_progress') AS in_progress,
    count(*) FILTER (WHERE t.status = 'submitted') AS submitted,
    count(*) FILTER (WHERE t.deadline < %(today)s
                     AND t.status NOT IN ('completed', 'long_term')) AS overdue,
    count(*) FILTER (WHERE t.deadline >= %(today)s AND t.deadline <= %(soon)s
                     AND t.status NOT IN ('completed', 'long_term')) AS due_soon,
    count(*) FILTER (WHERE t.status = 'completed' AND (t.deadline IS NULL
        OR (t.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= t.deadline)) AS closed_on_time
"""
FIELDS = [
    "total", "completed", "basically_completed", "long_term", "not_started", "in_progress",
    "submitted", "overdue", "due_soon", "closed_on_time",
]
SUMS = ", ".join(f"sum(p.{f})::bigint AS {f}" for f in FIELDS)
BARE = {
    "total": f"SELECT NULL, {AGG} FROM tracker_task t",
    "inspection": f"SELECT t.inspection_id, {AGG} FROM tracker_task t GROUP BY 1",
    "kind": f"""SELECT i.kind, {AGG} FROM tracker_task t
                JOIN tracker_inspection i ON i.id = t.inspection_id GROUP BY 1""",
    "unit": f"""WITH p AS (SELECT t.lead_unit_id, {AGG} FROM tracker_task t GROUP BY 1)
                SELECT a.id, {SUMS} FROM tracker_unit a
                JOIN tracker_unit u ON u.path LIKE a.path || '%%'
                JOIN p ON p.lead_unit_id = u.id GROUP BY 1""",
    "aspect": f"""SELECT pr.aspect, {AGG} FROM tracker_task t
                  JOIN tracker_problem pr ON pr.id = t.problem_id GROUP BY 1""",
    "month": f"""SELECT to_char(date_trunc('month', t.deadline), 'YYYY-MM'), {AGG}
                 FROM tracker_task t GROUP BY 1""",
    "one unit": f"""SELECT NULL, {AGG} FROM tracker_task t WHERE t.lead_unit_id IN
                    (SELECT id FROM tracker_unit WHERE path LIKE %(path)s || '%%')""",
}


class Command(BaseCommand):
    help = "在 PostgreSQL 上生成整改台账并比较统计接口与裸 SQL 聚合的耗时（会清空台账数据）。"

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default="10000,100000", help="任务数，逗号分隔")
        parser.add_argument("--repeat", type=int, default=7, help="每项计时次数（取中位数）")
        parser.add_argument("--seed", type=int, default=20260301)
        parser.add_argument("--keep", action="store_true", help="沿用库中已有数据，不重新生成")

    def handle(self, *args, sizes, repeat, seed, keep, **options):
        name = connection.settings_dict["NAME"]
        if connection.vendor != "postgresql" or not str(name).endswith("_bench"):
            raise CommandError(
                "只能在名称以 _bench 结尾的 PostgreSQL 数据库上运行（会清空台账数据）"
            )
        call_command("migrate", verbosity=0)
        results = []
        for size in [int(s) for s in sizes.split(",")]:
            if not keep:
                started = time.perf_counter()
                generate(size, seed)
                self.stdout.write(f"生成 {size} 个任务用时 {time.perf_counter() - started:.1f} 秒")
            with override_settings(DEBUG=False):  # no query log while timing, as in production
                results += bench(size, repeat, self.stdout)
        self.stdout.write("")
        self.stdout.write(table(results))


# --- Generation --------------------------------------------------------------------------


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
                    f"{task_id}\t{iid}\t{pid}\t整改任务{task_id}\t\t{task_type}\t"
                    f"{rng.choice(unit_ids)}\t\t\t{deadline or n}\t{deadline or n}\t{status}\t0\t"
                    f"{_ts(started) if started else n}\t"
                    f"{_ts(done) if done else n}\t"
                    f"{_ts(closed) if closed else n}\t1\t{_ts(created)}\t{_ts(at)}\n"
                )

        _copy(cursor, "tracker_task",
              ["id", "inspection_id", "problem_id", "title", "measures", "task_type",
               "lead_unit_id", "responsible_leader", "responsible_person", "deadline",
               "original_deadline", "status", "progress_percent", "started_at", "completed_at",
               "closed_at", "version", "created_at", "updated_at"],
              task_lines())
        events.seek(0)
        _copy(cursor, "tracker_taskevent",
              ["id", "task_id", "at", "action", "from_status", "to_status", "note", "data"],
              events)
        events.close()
        for table_name in ("tracker_unit", "tracker_inspection", "tracker_problem", "tracker_task",
                           "tracker_taskevent"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                           f"(SELECT max(id) FROM {table_name}))")
    # Fresh statistics and visibility map, as autovacuum would have them on a live ledger.
    with connection.cursor() as cursor:
        for table_name in ("tracker_unit", "tracker_inspection", "tracker_problem", "tracker_task",
                           "tracker_taskevent"):
            cursor.execute(f"VACUUM ANALYZE {table_name}")
    User.objects.create(username="bench-admin", role=Role.ADMIN, is_superuser=True,
                        is_staff=True)


# --- Timing ------------------------------------------------------------------------------


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _bare(sql: str, params: dict) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: dict(zip(FIELDS, row[1:], strict=True)) for row in cursor.fetchall()}


def _api_figures(data: dict, grouping: str) -> dict:
    rows = data["rows"]
    if grouping in ("total", "one unit"):
        return {None: {f: data["total"][f] for f in FIELDS}}
    key = {"aspect": lambda r: None if r["label"] == NO_ASPECT_LABEL else r["label"]}.get(
        grouping, lambda r: r["key"]
    )
    return {key(r): {f: r[f] for f in FIELDS} for r in rows if r["total"]}


def bench(size: int, repeat: int, out) -> list[dict]:
    from tracker.models import Unit

    user = User.objects.get(username="bench-admin")
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(user)
    today = timezone.localdate()
    leaf = Unit.objects.filter(kind="township").order_by("id").first()
    sql_params = {"today": today, "soon": due_soon_until(today), "path": leaf.path}
    cases = [(g, {"group_by": g}) for g in ("total", "inspection", "kind", "unit", "aspect",
                                             "month")]
    cases.append(("one unit", {"group_by": "total", "unit": leaf.pk}))
    results = []
    for grouping, params in cases:
        def api(params=params):
            response = client.get("/api/v1/rollups/", params)
            if response.status_code != 200:
                raise CommandError(f"{params}: HTTP {response.status_code} {response.content[:99]}")
            return response.json()

        sql = BARE[grouping]
        reset_queries()  # the request resets the log; start from empty so the capture counts
        with CaptureQueriesContext(connection) as captured:
            data = api()
        queries = len(captured.captured_queries)  # read now: later requests reset the log
        same = _api_figures(data, grouping) == _bare(sql, sql_params)
        api_ms = _median_ms(api, repeat)
        sql_ms = _median_ms(lambda sql=sql: _bare(sql, sql_params), repeat)
        row = {"size": size, "grouping": grouping, "groups": len(data["rows"]), "api": api_ms,
               "sql": sql_ms, "queries": queries, "same": same}
        out.write(f"  {size} {grouping}: API {api_ms:.1f} ms, SQL {sql_ms:.1f} ms, "
                  f"{queries} 次查询, 数字一致 {same}")
        results.append(row)
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| 任务数 | 分组 | 组数 | API 中位数 (ms) | 裸 SQL 中位数 (ms) | 比值 | 查询次数 "
        "| 数字一致 |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {r['grouping']} | {r['groups']} | {r['api']:.1f} | "
            f"{r['sql']:.1f} | {r['api'] / r['sql']:.2f} | {r['queries']} | "
            f"{'是' if r['same'] else '否'} |"
        )
    return "\n".join(lines)
