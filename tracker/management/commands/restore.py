"""manage.py restore DIR: a backup into an empty database and an empty file folder, checked."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "从备份恢复到空数据库与空文件目录，并按清单核对行数与校验和"

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="备份目录（含 manifest.json）")

    def handle(self, *args, source, **options):
        try:
            summary = backup_restore(source=source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"恢复完成并已核对：{summary.tables}张表，{summary.rows}行，"
                          f"{summary.files}个文件与备份清单一致")
