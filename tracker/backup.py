"""Backups an operator can trust: the database and the private files (evidence, report
originals) in one folder, with a manifest of every table's row count and every file's checksum,
and a restore that only writes into an empty database and proves the result against the
manifest.

On PostgreSQL the row counts and the dump come from one exported snapshot (pg_dump
--snapshot), so the manifest describes exactly what the dump holds even while people keep
working. The embedded SQLite database is copied with SQLite's online backup API.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from tracker.selectors import inspection_choices_changed
from tracker.storage import STAGING_FOLDER

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FILES = "files"
PREFIX = "tracker-backup-"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the operator (Chinese)."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    tables: int
    rows: int
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def _row_counts(cursor, tables: list[str]) -> dict[str, int]:
    quote = connection.ops.quote_name
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # names from introspection
        counts[table] = cursor.fetchone()[0]
    return counts


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments for pg_dump / pg_restore, from Django's own settings."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(f"找不到{command[0]}，请安装PostgreSQL客户端工具") from exc
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip()[:2000]}")


def _copy_files(source: Path, target: Path) -> list[dict]:
    """Every file under the private folder, copied and listed with its size and checksum."""
    listed = []
    if not source.is_dir():
        return listed
    staging = source / STAGING_FOLDER
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        if path.is_relative_to(staging):
            continue  # uploads not committed when the backup began
        relative = path.relative_to(source).as_posix()
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        listed.append({"path": relative, "size": destination.stat().st_size,
                       "sha256": _sha256(destination)})
    return listed


def _referenced_files() -> list[str]:
    """File names the database points at: every FileField of every installed model (evidence,
    report originals, and any added later)."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                names |= set(model._default_manager.exclude(**{field.name: ""})
                             .values_list(field.name, flat=True))
    return sorted(name for name in names if name)


def _latest_migrations(cursor) -> dict[str, str]:
    cursor.execute("SELECT app, MAX(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(cursor.fetchall())


def backup_create(*, destination: Path, now: dt.datetime | None = None) -> BackupSummary:
    """Write one backup folder under ``destination`` and return what it holds."""
    now = now or timezone.now()
    folder = Path(destination) / f"{PREFIX}{timezone.localtime(now):%Y%m%d-%H%M%S}"
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError as exc:
        raise BackupError(f"备份目录已存在：{folder}") from exc
    tables = _tables()
    if connection.vendor == "postgresql":
        database_file = folder / PG_DUMP
        args, env = _pg_environment()
        # One snapshot for the counts, the referenced files and the dump itself.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _row_counts(cursor, tables)
            migrations = _latest_migrations(cursor)
            referenced = _referenced_files()
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", "--file", str(database_file), *args],
                 env, "数据库导出（pg_dump）")
    elif connection.vendor == "sqlite":
        database_file = folder / SQLITE_COPY
        connection.ensure_connection()
        copy = sqlite3.connect(database_file)
        try:
            connection.connection.backup(copy)
            # Counted in the copy, so the manifest describes exactly what was saved.
            counts = _row_counts(copy.cursor(), tables)
            migrations = _latest_migrations(copy.cursor())
        finally:
            copy.close()
        referenced = _referenced_files()
    else:  # pragma: no cover - the project runs on PostgreSQL or SQLite only
        raise BackupError(f"不支持的数据库：{connection.vendor}")

    files = _copy_files(Path(settings.PRIVATE_MEDIA_ROOT), folder / FILES)
    present = {entry["path"] for entry in files}
    manifest = {
        "format": FORMAT,
        "created_at": timezone.localtime(now).isoformat(),
        "vendor": connection.vendor,
        "database_file": database_file.name,
        "database_sha256": _sha256(database_file),
        "migrations": migrations,
        "tables": counts,
        "files": files,
        # Named by the database but absent on disk when the backup was taken: reported, so the
        # gap is known before a restore is needed, not after.
        "missing_files": [name for name in referenced if name not in present],
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return BackupSummary(path=folder, tables=len(counts), rows=sum(counts.values()),
                         files=len(files))


def backups_prune(*, destination: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete backups (those with a manifest)."""
    if keep < 1:
        raise BackupError("至少保留一份备份")
    complete = sorted(
        (p for p in Path(destination).glob(f"{PREFIX}*") if (p / MANIFEST).is_file()),
        key=lambda p: p.name,
    )
    removed = complete[:-keep]
    for path in removed:
        shutil.rmtree(path)
    return removed


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"不是完整的备份：缺少{MANIFEST}（{folder}）") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"备份清单无法读取：{exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式版本不受支持：{manifest.get('format')}")
    return manifest


def _verify_backup(folder: Path, manifest: dict) -> None:
    """Refuse a damaged backup before anything is written."""
    database_file = folder / manifest["database_file"]
    if not database_file.is_file() or _sha256(database_file) != manifest["database_sha256"]:
        raise BackupError(f"备份已损坏：数据库文件{database_file.name}的校验和不符")
    for entry in manifest["files"]:
        path = folder / FILES / entry["path"]
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            raise BackupError(f"备份已损坏：文件{entry['path']}缺失或校验和不符")


def backup_restore(*, source: Path) -> BackupSummary:
    """Restore a backup folder into the configured (empty) database and private folder, then
    check every table's row count and every file's checksum against the manifest."""
    folder = Path(source)
    manifest = _read_manifest(folder)
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"备份来自{manifest['vendor']}数据库，当前配置的是{connection.vendor}")
    _verify_backup(folder, manifest)
    existing = _tables()
    if existing:
        raise BackupError(f"目标数据库不是空库（已有{len(existing)}张表）：恢复只写入新建的空库")
    media = Path(settings.PRIVATE_MEDIA_ROOT)
    if media.is_dir() and any(media.iterdir()):
        raise BackupError(f"文件目录不为空：{media}。恢复只写入空目录")

    database_file = folder / manifest["database_file"]
    if connection.vendor == "postgresql":
        args, env = _pg_environment()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args,
              str(database_file)], env, "数据库恢复（pg_restore）")
    else:
        connection.ensure_connection()
        source_db = sqlite3.connect(database_file)
        try:
            source_db.backup(connection.connection)
        finally:
            source_db.close()

    media.mkdir(parents=True, exist_ok=True)
    for entry in manifest["files"]:
        target = media / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / FILES / entry["path"], target)
        if _sha256(target) != entry["sha256"]:
            raise BackupError(f"恢复后文件校验和不符：{entry['path']}")

    with connection.cursor() as cursor:
        counts = _row_counts(cursor, sorted(manifest["tables"]))
    differing = {t: (n, counts[t]) for t, n in manifest["tables"].items() if counts[t] != n}
    if differing:
        detail = "；".join(f"{t}：备份{a}行，恢复后{b}行" for t, (a, b) in differing.items())
        raise BackupError(f"恢复后行数与备份清单不符：{detail}")
    inspection_choices_changed()  # cached from the ledger that was replaced
    return BackupSummary(path=folder, tables=len(counts), rows=sum(counts.values()),
                         files=len(manifest["files"]))
