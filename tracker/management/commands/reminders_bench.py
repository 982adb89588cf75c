"""Bench the reminder sweep on PostgreSQL: N open tasks, some of them due, one full sweep.

    DATABASE_URL=postgres://…/tracker_reminders_bench CELERY_BROKER_URL=redis://…/3 \\
        python manage.py reminders_bench --tasks 100000 --due 20000

Wipes the tracker tables of the bench database (its name must end in "_bench"), generates the
ledger with INSERT … SELECT generate_series, runs `reminders_sweep` once as of today 09:00
(Asia/Shanghai) and prints the time and query count of each phase and of the batches. Messages
go to the configured broker on a queue of their own, which is purged afterwards.
"""

import datetime as dt
import statistics
import time
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from tracker.bench.common import QueryCounter, ensure_bench_database
from tracker.reminders import services as sweep
from tracker.reminders.rules import current_stage
from tracker.reminders.services import configured_stages

TABLES = [
    "tracker_delivery", "tracker_reminder", "tracker_notification", "tracker_dispatchrequest",
    "tracker_taskevent", "tracker_task_supporting_units", "tracker_task", "tracker_problem",
    "tracker_inspection", "tracker_user", "tracker_unit",
]



class Command(BaseCommand):
    help = "在 PostgreSQL 上生成整改任务并计时一次完整的催办扫描"

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=100_000)
        parser.add_argument("--due", type=int, default=20_000)
        parser.add_argument("--units", type=int, default=0, help="默认每200个任务一个单位")
        parser.add_argument("--keep", action="store_true", help="保留已生成的数据，只重跑扫描")

    def handle(self, *args, **options):
        ensure_bench_database()
        from config.celery_app import app

        app.conf.task_default_queue = "tracker-bench"
        tz = ZoneInfo("Asia/Shanghai")
        today = timezone.localdate()
        now = dt.datetime(today.year, today.month, today.day, 9, 0, tzinfo=tz)
        total, due = options["tasks"], options["due"]
        units = options["units"] or max(10, total // 200)
        if not options["keep"]:
            started = time.perf_counter()
            self._generate(total=total, due=due, units=units, today=today)
            self.stdout.write(f"生成：{total}个任务（{due}个到期）、{units}个单位，"
                              f"用时{time.perf_counter() - started:.1f}s")
        else:
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE tracker_delivery, tracker_reminder, "
                               "tracker_notification")

        counter = QueryCounter()
        batch_queries: list[tuple[str, int, int, float]] = []
        marks = {"q": 0, "t": time.perf_counter()}

        def observer(phase, size, created):
            batch_queries.append((phase, size, counter.count - marks["q"],
                                  time.perf_counter() - marks["t"]))
            marks["q"], marks["t"] = counter.count, time.perf_counter()

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            result = sweep.reminders_sweep(now=now, observer=observer, requeue=False)
        end_to_end = time.perf_counter() - started
        self._report(result, batch_queries, end_to_end, counter.count)
        with app.connection_for_write() as conn:
            purged = conn.default_channel.queue_purge("tracker-bench") or 0
        self.stdout.write(f"已清空基准测试队列中的{purged}条消息")

    def _generate(self, *, total, due, units, today):
        stages = configured_stages()
        due_deadlines = [
            d for d in (today + dt.timedelta(days=k) for k in range(-60, 20))
            if current_stage(stages, d, today) is not None
        ]
        with connection.cursor() as c:
            c.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            c.execute("INSERT INTO tracker_unit (name, short_name, kind, path, depth, sort_order,"
                      " wecom_webhook_url, dingtalk_webhook_url, dingtalk_secret) VALUES "
                      "('基准市委', '', 'party_committee', '/1/', 0, 0, '', '', '')")
            c.execute(
                "INSERT INTO tracker_unit (name, short_name, kind, parent_id, path, depth,"
                " sort_order, wecom_webhook_url, dingtalk_webhook_url, dingtalk_secret) "
                "SELECT '基准单位' || g, '', 'city_department', 1, '/1/' || (g + 1) || '/', 1,"
                " g, CASE WHEN g %% 10 = 0 THEN 'http://127.0.0.1:9/wecom' ELSE '' END, '', '' "
                "FROM generate_series(1, %s) g", [units])
            user_cols = ("password, is_superuser, username, first_name, last_name, email, "
                         "is_staff, is_active, date_joined, full_name, role, covers_subunits, "
                         "phone, unit_id")
            c.execute(
                f"INSERT INTO tracker_user ({user_cols}) SELECT '!', false, 'officer' || u.id,"
                " '', '', 'officer' || u.id || '@example.test', false, true, now(),"
                " '联络员' || u.id, 'officer', false, '', u.id"
                " FROM tracker_unit u WHERE u.depth = 1")
            c.execute(
                f"INSERT INTO tracker_user ({user_cols}) VALUES ('!', false, 'chief', '', '',"
                " 'chief@example.test', true, true, now(), '督导组', 'supervisor', false, '', 1)")
            c.execute("INSERT INTO tracker_inspection (title, kind, mode, team, target,"
                      " feedback_date, created_at) VALUES ('基准巡察', 'city_patrol', 'regular',"
                      " '市委第一巡察组', '基准', %s, now()) RETURNING id", [today])
            inspection_id = c.fetchone()[0]
            c.execute("INSERT INTO tracker_problem (inspection_id, aspect, number, text) "
                      "VALUES (%s, '', 1, '基准问题') RETURNING id", [inspection_id])
            problem_id = c.fetchone()[0]
            # Due tasks are spread over the ids, one in every total/due, as a real ledger is.
            step = max(1, total // max(due, 1))
            c.execute(
                "INSERT INTO tracker_task (inspection_id, problem_id, title, measures, task_type,"
                " lead_unit_id, responsible_leader, responsible_person, deadline,"
                " original_deadline, status, progress_percent, version, created_at, updated_at)"
                " SELECT %s, %s, '基准整改任务' || g, '', 'by_deadline',"
                " 2 + ((g / %s) %% %s), '', '', d.deadline, d.deadline,"
                " CASE WHEN g %% 2 = 0 THEN 'in_progress' ELSE 'not_started' END,"
                " 0, 1, now(), now()"
                " FROM generate_series(1, %s) g, LATERAL (SELECT CASE"
                "   WHEN g %% %s = 0 AND g / %s <= %s"
                "   THEN (%s::date[])[1 + (g / %s) %% %s]"
                "   ELSE %s::date + 60 + (g %% 300) END AS deadline) d",
                [inspection_id, problem_id, step, units, total, step, step, due, due_deadlines,
                 step, len(due_deadlines), today])
            c.execute("UPDATE tracker_task SET started_at = now() WHERE status = 'in_progress'")
            c.execute("ANALYZE")

    def _report(self, result, batches, end_to_end, queries):
        record = [b for b in batches if b[0] == "record"]
        compose = [b for b in batches if b[0] == "compose"]
        record_time = sum(b[3] for b in record)
        compose_time = sum(b[3] for b in compose)
        w = self.stdout.write
        w(f"扫描日期：{result.today}")
        w(f"新增提醒：{result.reminders} 条；消息：{result.notifications} 条；"
          f"待发送：{result.deliveries} 项")
        w(f"认领并记录（record）：{len(record)} 批，{record_time:.2f}s")
        w(f"汇总成消息并排队（compose）：{len(compose)} 批，{compose_time:.2f}s")
        w(f"端到端（扫描开始到最后一条消息入队）：{end_to_end:.2f}s")
        w(f"SQL 查询总数：{queries}")
        for name, rows in (("record", record), ("compose", compose)):
            if not rows:
                continue
            times = [r[3] * 1000 for r in rows]
            qs = sorted({r[2] for r in rows})
            w(f"  {name} 每批：查询数 {qs}；耗时 ms 首批 {times[0]:.0f} / 中位 "
              f"{statistics.median(times):.0f} / 末批 {times[-1]:.0f} / 最大 {max(times):.0f}")
            if len(rows) >= 4:
                quarter = max(1, len(times) // 4)
                first, last = times[:quarter], times[-quarter:]
                w(f"  {name} 前1/4批平均 {statistics.mean(first):.0f} ms，"
                  f"后1/4批平均 {statistics.mean(last):.0f} ms")
