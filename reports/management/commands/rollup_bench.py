"""Benchmark the rollups on PostgreSQL: a generated ledger at each size, every grouping timed
through the API stack in-process against the bare SQL aggregate that yields the same numbers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_rollups_bench \\
        python manage.py rollup_bench --sizes 10000,100000,1000000

It wipes the ledger tables of the database it runs on, so it refuses any database whose name
does not end in "_bench". The ledger generator is tracker.bench.ledger's, shared with
`manage.py bench`, which measures every figure of issue #13 (docs/performance.md).
"""

import statistics
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tracker.bench.common import ensure_bench_database
from tracker.bench.ledger import generate
from tracker.bench.run import AGG, FIELDS, SUMS
from tracker.deadlines import due_soon_until
from tracker.figures.rollups import NO_ASPECT_LABEL
from tracker.models import User

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
        ensure_bench_database()
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
