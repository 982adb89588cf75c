"""What every bench command shares: the database guard, the query counter, timing by
alternating medians, and the description of the machine the figures were taken on."""

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import connection, transaction

BENCH_SUFFIX = "_bench"


def ensure_bench_database() -> None:
    """The benches wipe the ledger tables: only a PostgreSQL database named *_bench will do."""
    if connection.vendor != "postgresql":
        raise CommandError("基准测试只能在 PostgreSQL 上运行，不支持 SQLite 等其他数据库")
    name = str(connection.settings_dict["NAME"])
    if not name.endswith(BENCH_SUFFIX):
        raise CommandError(
            f"数据库“{name}”的名称不以 {BENCH_SUFFIX} 结尾：基准测试会清空台账数据，"
            f"只能在专用的基准测试库上运行（例如 tracker{BENCH_SUFFIX}）"
        )


class QueryCounter:
    """A `connection.execute_wrapper` that counts the statements sent to the database."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def count_queries(fn: Callable):
    """Run `fn` once; return (its value, the number of statements it sent)."""
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        value = fn()
    return value, counter.count


def alternating_medians(project: Callable, floor: Callable | None, repeat: int):
    """Median milliseconds of `project` and `floor`, run in turn (project, floor, project...)
    after one warm-up each, so that a change in the machine's load touches both alike."""
    project()
    if floor is not None:
        floor()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, bucket in ((project, times[0]), (floor, times[1])):
            if fn is None:
                continue
            started = time.perf_counter()
            fn()
            bucket.append((time.perf_counter() - started) * 1000)
    return (statistics.median(times[0]),
            statistics.median(times[1]) if floor is not None else None)


def machine_description() -> dict:
    """CPU count, PostgreSQL version, the session's jit, load average and the date."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "postgresql": version,
        "jit": jit,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_line(d: dict) -> str:
    return (f"机器：CPU {d['cpus']} 核；PostgreSQL {d['postgresql']}；jit={d['jit']}；"
            f"负载 {d['load']}；日期 {d['date']}")


class _Rollback(Exception):
    pass


def rolled_back(fn):
    """Run `fn` in a transaction that is rolled back: the ledger stays as generated."""
    holder = {}
    try:
        with transaction.atomic():
            holder["value"] = fn()
            raise _Rollback
    except _Rollback:
        pass
    return holder["value"]
