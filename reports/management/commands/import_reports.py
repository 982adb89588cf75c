"""`manage.py import_reports PATH…`: read report documents into the tracker.

Synchronous, with the uploads' bounds: each file is read in a child process with the same
limits, memory cap and time limit as the worker's (reports.services.report_read_bounded).

Prints a table of what each file yielded; importing the same file again changes nothing.
With --dry-run --json it stores nothing and prints one JSON object per file (README).
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reports.parsing import DocumentError, to_json
from reports.parsing.reading import SUPPORTED_SUFFIXES, too_large
from reports.services import (
    DocumentRefused,
    report_find_duplicate,
    report_import,
    report_read_bounded,
)


def report_files(paths: list[str]) -> list[Path]:
    """The files named, and the supported files inside the folders named, in a stable order."""
    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*")
                       if p.is_file() and p.suffix.lower().lstrip(".") in SUPPORTED_SUFFIXES)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"找不到文件或文件夹：{name}")
    return found


def read_bytes(path: Path) -> bytes:
    # Refuse an oversized file before reading it into memory (the uploads' limit).
    size = path.stat().st_size
    if size > settings.REPORT_MAX_BYTES:
        raise too_large(size, settings.REPORT_MAX_BYTES)
    return path.read_bytes()


class Command(BaseCommand):
    help = "导入报告文件（.txt/.docx/.pdf，可指定文件夹），提取整改数据、存在的问题和下步措施。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="报告文件或文件夹")
        parser.add_argument("--dry-run", action="store_true", help="只读取，不保存")
        parser.add_argument("--json", action="store_true", help="每个文件输出一行JSON")

    def handle(self, *args, paths, dry_run, json: bool, **options):
        files = report_files(paths)
        refused = 0
        if not json:
            self.stdout.write(f"{'文件':<40} {'结果':<8} {'编码':<10} 数据 问题 措施")
        for path in files:
            try:
                row = self._dry_run(path) if dry_run else self._import(path)
            except (DocumentError, DocumentRefused) as error:
                refused += 1
                row = {"file": str(path), "error": {"code": getattr(error, "reason", error.code),
                                                    "message": error.message}}
            self._print(row, as_json=json)
        if refused:
            raise CommandError(f"{refused}个文件未能读取")

    def _dry_run(self, path: Path) -> dict:
        read = report_read_bounded(data=read_bytes(path), filename=path.name)
        return {"file": str(path), "format": read.document.format,
                "encoding": read.document.encoding, **to_json(read.extraction)}

    def _import(self, path: Path) -> dict:
        data = read_bytes(path)
        # The same bytes again need no reading at all (report_import answers from the hash).
        read = (None if report_find_duplicate(data=data)
                else report_read_bounded(data=data, filename=path.name))
        outcome = report_import(data=data, filename=path.name, actor=None, read=read)
        report = outcome.report
        return {
            "file": str(path), "status": "新导入" if outcome.created else "已导入过，未改动",
            "encoding": report.encoding or report.format,
            "figures": report.figures.count(),
            "problems": report.items.filter(kind="problem").count(),
            "measures": report.items.filter(kind="measure").count(),
        }

    def _print(self, row: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(row, ensure_ascii=False))
        elif "error" in row:
            self.stdout.write(f"{row['file']:<40} 拒绝：{row['error']['message']}")
        elif "status" in row:
            self.stdout.write(
                f"{row['file']:<40} {row['status']:<8} {row['encoding']:<10} "
                f"{row['figures']:>4} {row['problems']:>4} {row['measures']:>4}"
            )
        else:
            counts = [len(row[k] or []) for k in ("figures", "problems", "measures")]
            self.stdout.write(f"{row['file']:<40} 预览     {row['encoding'] or row['format']:<10} "
                              + " ".join(f"{n:>4}" for n in counts))
