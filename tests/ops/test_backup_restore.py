"""manage.py backup / restore: a backup restored into a fresh database and an empty folder has
every table's row count and every file's checksum of the original. Runs on the configured
database: SQLite on the embedded defaults, PostgreSQL (pg_dump/pg_restore with one exported
snapshot) in CI's second run."""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.reports.factories import SourceReportFactory
from tests.tracker.factories import EvidenceFactory, TaskEventFactory, TaskFactory
from tracker.backup import MANIFEST, backup_create, backups_prune
from tracker.storage import STAGING_FOLDER

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha(p) for p in root.rglob("*") if p.is_file()}


def _source_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def ledger_with_files(private_media):
    tasks = TaskFactory.create_batch(3)
    TaskEventFactory(task=tasks[0])
    EvidenceFactory(task=tasks[0], content=b"%PDF-1.4 first")
    EvidenceFactory(task=tasks[1], content=b"%PDF-1.4 second")
    SourceReportFactory()
    return private_media


@pytest.fixture
def fresh_database(tmp_path):
    """A new, empty database of the configured kind, as DATABASE_URL plus a way to read it."""
    if connection.vendor == "postgresql":
        name = f"tracker_restore_{uuid.uuid4().hex[:8]}"
        settings = connection.settings_dict
        host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
        user = settings.get("USER") or "postgres"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        url = f"postgres://{user}@{host}:{port}/{name}"

        def count(table: str) -> int:
            import psycopg

            with psycopg.connect(host=host, port=port, user=user, dbname=name) as conn:
                return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

        yield url, count
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "restored.sqlite3"

        def count(table: str) -> int:
            with sqlite3.connect(path) as conn:
                return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

        yield f"sqlite:///{path}", count


def _restore_elsewhere(backup: Path, database_url: str, media: Path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": database_url, "PRIVATE_MEDIA_ROOT": str(media)}
    return subprocess.run([sys.executable, "manage.py", "restore", str(backup)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def test_a_backup_restored_into_a_fresh_database_matches_table_by_table(
    ledger_with_files, fresh_database, tmp_path
):
    database_url, restored_count = fresh_database
    source_counts = _source_counts()
    source_files = _files(ledger_with_files)
    assert source_counts["tracker_task"] >= 3
    assert len(source_files) == 3  # two evidence files and one report original
    # An upload whose transaction had not committed when the backup began is not part of it.
    (ledger_with_files / STAGING_FOLDER).mkdir()
    (ledger_with_files / STAGING_FOLDER / "0f1e2d3c").write_bytes(b"%PDF-1.4 in flight")

    call_command("backup", "--to", str(tmp_path / "backups"))
    [backup] = (tmp_path / "backups").iterdir()
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["tables"] == source_counts
    assert manifest["missing_files"] == []

    restored_media = tmp_path / "restored-private"
    result = _restore_elsewhere(backup, database_url, restored_media)
    assert result.returncode == 0, result.stderr
    assert "恢复完成并已核对" in result.stdout

    assert {table: restored_count(table) for table in source_counts} == source_counts
    assert _files(restored_media) == source_files
    assert not any(entry["path"].startswith(STAGING_FOLDER) for entry in manifest["files"])


def test_restore_refuses_a_database_that_is_not_empty(ledger_with_files, tmp_path):
    summary = backup_create(destination=tmp_path)
    with pytest.raises(CommandError, match="目标数据库不是空库"):
        call_command("restore", str(summary.path))


def test_restore_refuses_a_damaged_backup_and_names_the_file(
    ledger_with_files, fresh_database, tmp_path
):
    database_url, _ = fresh_database
    summary = backup_create(destination=tmp_path / "backups")
    damaged = next(p for p in (summary.path / "files").rglob("*") if p.is_file())
    damaged.write_bytes(damaged.read_bytes() + b"x")

    result = _restore_elsewhere(summary.path, database_url, tmp_path / "restored-private")
    assert result.returncode != 0
    assert "备份已损坏" in result.stderr
    assert damaged.name in result.stderr
    assert not (tmp_path / "restored-private").exists()  # refused before writing anything


def test_a_file_the_database_names_but_the_disk_lacks_is_listed_in_the_manifest(
    ledger_with_files, tmp_path
):
    evidence = EvidenceFactory(content=b"%PDF-1.4 lost")
    Path(evidence.file.path).unlink()
    summary = backup_create(destination=tmp_path)
    manifest = json.loads((summary.path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["missing_files"] == [evidence.file.name]


def test_keep_removes_all_but_the_newest_complete_backups(tmp_path, db):
    for stamp in ("20261101-013000", "20261102-013000", "20261103-013000"):
        (tmp_path / f"tracker-backup-{stamp}").mkdir()
        (tmp_path / f"tracker-backup-{stamp}" / MANIFEST).write_text("{}")
    (tmp_path / "tracker-backup-20261104-013000").mkdir()  # interrupted: no manifest, kept
    removed = backups_prune(destination=tmp_path, keep=2)
    assert [p.name for p in removed] == ["tracker-backup-20261101-013000"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tracker-backup-20261102-013000", "tracker-backup-20261103-013000",
        "tracker-backup-20261104-013000",
    ]
