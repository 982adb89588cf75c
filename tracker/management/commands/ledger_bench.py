"""Bench the ledger round trip on PostgreSQL: N tasks exported, imported back unchanged,
imported with 10% of the rows changed, and imported as new into an empty inspection.

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE tracker_ledger_bench"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_ledger_bench \\
        python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_ledger_bench \\
        python manage.py ledger_bench --tasks 10000

Runs with the site's limits (TRACKER_LEDGER_MAX_ROWS, 20,000 rows by default). Wipes the
tracker tables of the bench database (its name must end in "_bench"), builds one
inspection with N tasks (two per problem, over 40 units with an officer each, every status
but 已销号, a progress note on every fifth), then times each phase once for seconds and SQL
queries and once more under tracemalloc for peak memory. Imports run in a transaction that
is rolled back, so the phases do not disturb each other. Besides wall time it prints this
process's CPU time and the PostgreSQL backend's (when the server is local), so a figure taken
on a busy machine can be judged. Not a test: it prints numbers for docs/ledger-excel.md.
"""

import io
import os
import time
import tracemalloc

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from tracker.bench.common import QueryCounter, ensure_bench_database, rolled_back
from tracker.bench.ledger import without_keys
from tracker.models import (
    Inspection,
    InspectionKind,
    Problem,
    ProgressReport,
    Role,
    Task,
    TaskStatus,
    UnitKind,
    WebhookEndpoint,
)
from tracker.services.ledger import ledger_apply, ledger_export
from tracker.services.units import unit_create
from tracker.services.users import user_create

TABLES = [
    "tracker_ledgerjob", "tracker_delivery", "tracker_reminder", "tracker_notification",
    "tracker_dispatchrequest", "tracker_progressreport", "tracker_taskevent",
    "tracker_task_supporting_units", "tracker_task", "tracker_problem", "tracker_inspection",
    "tracker_user_groups", "tracker_user", "tracker_unit", "tracker_webhookendpoint",
]
STATUSES = [TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.SUBMITTED,
            TaskStatus.BASICALLY_COMPLETED, TaskStatus.LONG_TERM]


class Command(BaseCommand):
    help = "在 PostgreSQL 上计时整改台账的导出、原样导入和修改10%后导入"

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=10_000)
        parser.add_argument("--changed", type=float, default=0.10, help="修改的行的比例")
        parser.add_argument("--webhooks", type=int, default=0,
                            help="订阅全部事件的外部推送地址个数（每条历史记录各记一条待发送）")

    def handle(self, *args, tasks, changed, webhooks, **options):
        ensure_bench_database()
        if tasks > settings.TRACKER_LEDGER_MAX_ROWS:
            raise CommandError(
                f"超过 TRACKER_LEDGER_MAX_ROWS（{settings.TRACKER_LEDGER_MAX_ROWS}行），"
                "请减少任务数或调高该设置"
            )
        self.stdout.write(
            f"限额（默认设置）：{settings.TRACKER_LEDGER_MAX_ROWS}行，"
            f"{settings.TRACKER_LEDGER_MAX_BYTES // (1024 * 1024)}MB"
        )
        started = time.perf_counter()
        inspection, chief = self._generate(tasks)
        for i in range(webhooks):
            WebhookEndpoint.objects.create(
                name=f"基准外部系统{i}", url=f"http://oa.bench.invalid/hooks/{i}",
                on_created=True, on_changed=True, on_closed=True, on_reopened=True,
                created_at=timezone.now(), updated_at=timezone.now(),
            )
        self.stdout.write(f"生成：{tasks}个整改任务，用时{time.perf_counter() - started:.1f}s")
        with open("/proc/loadavg") as f:
            self.stdout.write(f"  机器负载（/proc/loadavg）：{f.read().strip()}")

        queryset = Task.objects.filter(inspection=inspection)
        data = self._phase("导出", tasks, lambda: ledger_export(tasks=queryset))
        self.stdout.write(f"  文件大小 {len(data) / 1024 / 1024:.1f} MB")

        def apply(body):
            return lambda: ledger_apply(inspection=inspection, actor=chief, data=body)

        result = self._phase("原样导入（全部未变）", tasks, apply(data), rollback=True)
        self.stdout.write(f"  {result.message}")
        edited = self._edit(data, int(tasks * changed))
        result = self._phase(f"修改{changed:.0%}后导入", tasks, apply(edited), rollback=True)
        self.stdout.write(f"  {result.message}")
        # The first import of an inspection: every row new (系统编号 blanked, as a copy).
        empty = Inspection.objects.create(
            title="基准巡察（新建）", kind=inspection.kind, team=inspection.team,
            target=inspection.target, target_unit=inspection.target_unit,
            feedback_date=inspection.feedback_date,
        )
        copied = without_keys(data)
        result = self._phase(
            "全部新建导入（空的巡视巡察）", tasks,
            lambda: ledger_apply(inspection=empty, actor=chief, data=copied), rollback=True,
        )
        self.stdout.write(f"  {result.message}")

    def _phase(self, name, rows, fn, *, rollback=False):
        counter = QueryCounter()
        server = self._server_cpu()
        began, cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(counter):
            value = self._run(fn, rollback)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        server = self._server_cpu() - server if server is not None else None
        tracemalloc.start()
        self._run(fn, rollback)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.stdout.write(
            f"{name}：{rows}行 {seconds:.2f}s（本进程CPU {cpu:.2f}s"
            + (f"，数据库进程CPU {server:.2f}s" if server is not None else "")
            + f"），SQL {counter.count}条（每行 {counter.count / rows:.3f}条），"
            f"内存峰值 {peak / 1024 / 1024:.0f} MB"
        )
        return value

    @staticmethod
    def _server_cpu() -> float | None:
        """CPU seconds of this connection's PostgreSQL backend so far (from /proc when the
        server runs on this machine), so that wall time under load can be told apart."""
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            pid = c.fetchone()[0]
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            return None
        if "(postgres)" not in stat:
            return None  # the server runs elsewhere: this pid is not its backend
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _run(fn, rollback):
        return rolled_back(fn) if rollback else fn()

    def _edit(self, data: bytes, count: int) -> bytes:
        wb = load_workbook(io.BytesIO(data))
        ws = wb.active
        columns = {c.value: i + 1 for i, c in enumerate(ws[2]) if c.value}
        step = max(1, (ws.max_row - 2) // max(count, 1))
        for k in range(count):
            ws.cell(3 + k * step, columns["责任人"]).value = f"台账改{k}"
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def _generate(self, total: int):
        with connection.cursor() as c:
            c.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        root = unit_create(name="基准市委", kind=UnitKind.PARTY_COMMITTEE)
        units = [unit_create(name=f"基准单位{i}", kind=UnitKind.CITY_DEPARTMENT, parent=root)
                 for i in range(40)]
        chief = user_create(username="bench_chief", password="bench-password-1",
                            role=Role.SUPERVISOR, unit=root)
        # Whom a first import tells (default preferences: at once, with e-mail): each unit's
        # officer of its new tasks, the other city supervisor of the submitted ones.
        user_create(username="bench_deputy", password="bench-password-1",
                    role=Role.SUPERVISOR, unit=root)
        for i, unit in enumerate(units):
            user_create(username=f"bench_officer{i}", password="bench-password-1",
                        role=Role.OFFICER, unit=unit, email=f"officer{i}@bench.invalid")
        inspection = Inspection.objects.create(
            title="基准巡察", kind=InspectionKind.CITY_PATROL, team="市委第一巡察组",
            target="基准", target_unit=root, feedback_date=timezone.localdate(),
        )
        problems = Problem.objects.bulk_create(
            Problem(inspection=inspection, number=i + 1, text=f"基准问题{i + 1}，说明若干情况。")
            for i in range((total + 1) // 2)
        )
        now = timezone.now()
        deadline = timezone.localdate().replace(month=12, day=31)
        tasks = []
        for i in range(total):
            status = STATUSES[i % len(STATUSES)]
            long_term = status == TaskStatus.LONG_TERM
            tasks.append(Task(
                inspection=inspection, problem=problems[i // 2], title=f"基准整改任务{i + 1}",
                measures=f"第一步，建立台账{i}。\n第二步，逐项销号。",
                task_type="long_term" if long_term else "by_deadline",
                lead_unit=units[i % len(units)], responsible_leader="王副局长",
                responsible_person="李科长", deadline=None if long_term else deadline,
                original_deadline=None if long_term else deadline, status=status,
                started_at=None if status == TaskStatus.NOT_STARTED else now,
                completed_at=now if status in (TaskStatus.SUBMITTED,
                                               TaskStatus.BASICALLY_COMPLETED) else None,
            ))
        tasks = Task.objects.bulk_create(tasks, batch_size=2000)
        Task.supporting_units.through.objects.bulk_create(
            [Task.supporting_units.through(task_id=t.pk, unit_id=units[(i + 7) % 40].pk)
             for i, t in enumerate(tasks) if i % 3 == 0], batch_size=5000,
        )
        ProgressReport.objects.bulk_create(
            [ProgressReport(task=t, author=chief, note=f"已完成第一步{i}", created_at=now)
             for i, t in enumerate(tasks) if i % 5 == 1 and t.status != TaskStatus.NOT_STARTED],
            batch_size=5000,
        )
        with connection.cursor() as c:
            c.execute("ANALYZE")
        return inspection, chief
