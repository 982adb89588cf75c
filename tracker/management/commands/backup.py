"""manage.py backup [--to DIR] [--keep N]: the database and the private files, with a manifest."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracker.backup import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = "备份数据库与佐证材料等文件（含行数与校验和清单）"

    def add_arguments(self, parser):
        parser.add_argument("--to", dest="destination", type=Path, default=None,
                            help="备份存放目录（默认 BACKUP_DIR）")
        parser.add_argument("--keep", type=int, default=None,
                            help="只保留最新的N份完整备份，删除更早的")

    def handle(self, *args, destination, keep, **options):
        destination = destination or Path(settings.BACKUP_DIR)
        try:
            summary = backup_create(destination=destination)
            removed = backups_prune(destination=destination, keep=keep) if keep else []
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"备份完成：{summary.path}（{summary.tables}张表，{summary.rows}行，"
                          f"{summary.files}个文件）")
        for path in removed:
            self.stdout.write(f"已删除旧备份：{path}")
