"""Acceptance (issue #13, "How it is shown"): `manage.py bench` builds the ledger on a
PostgreSQL database named *_bench, measures every figure as the project and as its floor for
the four roles, and writes the rows as JSON with exactly the agreed keys; every answer agrees
with its floor. It refuses any other database.

Runs the real command in a subprocess against a database this test creates and drops. The
issue asks for 10k in CI; SIZE below is what stays within the test's time budget on the
development machine (see docs/performance.md)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SIZE = 10000
KEYS = {"work", "size", "role", "project_ms", "floor_ms", "ratio", "queries", "same"}
ROLES = {"admin", "city_supervisor", "district_supervisor", "officer"}
# Every work of the issue, by the start of its name in the table.
WORKS = ["rollup by inspection", "rollup by unit", "rollup by total", "rollup by aspect",
         "rollup by kind", "rollup by month", "as-of rollup",
         "挂图作战 dashboard", "挂图作战 dashboard vs one full-table aggregate",
         "我的任务 page 1", "我的任务 deep page", "task list API page 1",
         "reminder sweep", "Excel ledger export", "Excel ledger import"]


@pytest.fixture
def bench_database():
    """A new, empty PostgreSQL database whose name ends in _bench, dropped afterwards."""
    import psycopg

    settings = connection.settings_dict
    server = {"host": settings.get("HOST") or "127.0.0.1", "port": settings.get("PORT") or 5432,
              "user": settings.get("USER") or "postgres"}
    if settings.get("PASSWORD"):
        server["password"] = settings["PASSWORD"]
    name = f"tracker_test_{uuid.uuid4().hex[:8]}_bench"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{server['password']}" if "password" in server else ""
    yield f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_bench_rows_have_the_agreed_keys_every_role_and_agree_with_their_floors(
    bench_database, tmp_path
):
    out = tmp_path / "bench.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": bench_database}
    run = subprocess.run(
        [sys.executable, "manage.py", "bench", "--sizes", str(SIZE), "--repeat", "1",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "jit=off" in run.stdout  # the machine line, with the session's jit
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows
    assert all(set(row) == KEYS for row in rows)
    assert {row["role"] for row in rows} >= ROLES
    assert all(row["size"] == SIZE for row in rows)
    for work in WORKS:
        assert any(row["work"].startswith(work) for row in rows), work
    for role in ROLES:  # each role has its rollups, pages and API
        mine = [row["work"] for row in rows if row["role"] == role]
        assert any(w.startswith("rollup by unit") for w in mine), role
        assert any(w.startswith("task list API") for w in mine), role
    disagreeing = [(row["work"], row["role"]) for row in rows if row["same"] is not True]
    assert disagreeing == []
    assert all(row["queries"] > 0 for row in rows)
    assert all(row["project_ms"] > 0 for row in rows)
    # The table printed is the same rows.
    assert run.stdout.count(f"| {SIZE:,} |") == len(rows)
    # The last generated ledger stays for other tools; what the bench did to it was rolled back.
    import psycopg

    with psycopg.connect(bench_database) as conn:
        assert conn.execute("SELECT count(*) FROM tracker_task").fetchone()[0] == SIZE
        assert conn.execute("SELECT count(*) FROM tracker_reminder").fetchone()[0] == 0
        # The COPY of the history filled the trend's counts (the triggers), exactly.
        for period in ("week", "month"):
            assert conn.execute(
                "SELECT sum(created) FROM tracker_eventtally WHERE period = %s", [period]
            ).fetchone()[0] == conn.execute(
                "SELECT count(*) FROM tracker_taskevent WHERE action = 'create'"
            ).fetchone()[0] > 0


@pytest.mark.postgres
def test_bench_runs_only_the_works_named_and_reuses_a_ledger_of_the_size_asked(
    bench_database, tmp_path
):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": bench_database}

    def bench(*extra):
        out = tmp_path / "rows.json"
        run = subprocess.run(
            [sys.executable, "manage.py", "bench", "--sizes", "200", "--repeat", "1",
             "--works", "task_api,dashboard", "--json", str(out), *extra],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stdout, json.loads(out.read_text(encoding="utf-8"))

    first, rows = bench("--reuse")  # nothing to reuse yet: generated
    assert "生成 200 个任务" in first
    assert {row["work"] for row in rows} == {
        "task list API page 1", "挂图作战 dashboard",
        "挂图作战 dashboard vs one full-table aggregate"}
    assert all(row["same"] is True for row in rows)
    import psycopg

    with psycopg.connect(bench_database) as conn:
        conn.execute("UPDATE tracker_task SET title = 'kept' WHERE id = "
                     "(SELECT min(id) FROM tracker_task)")
    again, rows = bench("--reuse")
    assert "沿用库中已有的 200 个任务" in again
    assert "生成" not in again
    assert {row["role"] for row in rows if row["work"] == "task list API page 1"} == ROLES
    with psycopg.connect(bench_database) as conn:  # the same ledger, not a new one
        assert conn.execute("SELECT count(*) FROM tracker_task WHERE title = 'kept'"
                            ).fetchone()[0] == 1


def test_bench_refuses_a_work_it_does_not_know():
    with pytest.raises(CommandError, match="--works 只能是"):
        call_command("bench", "--sizes", "100", "--works", "task_api,nonsense")
    with pytest.raises(CommandError, match="--works 只能是"):
        call_command("bench", "--sizes", "100", "--works", ",")


@pytest.mark.django_db
def test_bench_refuses_sqlite_and_a_database_not_named_bench():
    # The test database (test_tracker_…) does not end in _bench: nothing is wiped.
    assert not str(connection.settings_dict["NAME"]).endswith("_bench")
    postgres = connection.vendor == "postgresql"
    message = "不以 _bench 结尾" if postgres else "只能在 PostgreSQL 上运行"
    with pytest.raises(CommandError, match=message):
        call_command("bench", "--sizes", "100")


def test_bench_raises_the_api_throttles_only_while_it_runs():
    from config.api.throttling import AnonThrottle, UserThrottle
    from tracker.bench.run import raised_throttles

    before = (UserThrottle().rate, AnonThrottle().rate)
    with raised_throttles():
        # The project's own throttle classes, as the API views use them.
        assert UserThrottle().num_requests >= 1_000_000
        assert AnonThrottle().num_requests >= 1_000_000
    assert (UserThrottle().rate, AnonThrottle().rate) == before
    assert UserThrottle().num_requests < 1_000_000
