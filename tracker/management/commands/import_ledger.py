from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.errors import DomainError, ImportRejected
from tracker.models import Inspection, User
from tracker.services.ledger import ledger_import


class Command(BaseCommand):
    help = "从Excel（.xlsx）整改台账导入反馈问题和整改任务：逐行校验，有任何错误则整份不导入。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="整改台账文件（.xlsx）")
        parser.add_argument("--inspection", type=int, required=True, help="巡视巡察编号")
        parser.add_argument("--user", required=True, help="以该用户（督导人员）的身份导入")

    def handle(self, *args, path, inspection, user, **options):
        inspection_obj = Inspection.objects.filter(pk=inspection).first()
        if inspection_obj is None:
            raise CommandError(f"巡视巡察（编号{inspection}）不存在")
        actor = User.objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"用户“{user}”不存在")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"文件“{path}”不存在")
        try:
            result = ledger_import(
                inspection=inspection_obj, actor=actor, data=file.read_bytes(),
                filename=file.name,
            )
        except ImportRejected as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(exc.message) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"“{inspection_obj.title}”{result.message}")
