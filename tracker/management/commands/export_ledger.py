from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.models import Inspection, Task, User
from tracker.selectors import task_list
from tracker.services.audit import AuditAction, audit_record
from tracker.services.ledger import ledger_export


class Command(BaseCommand):
    help = "把一轮巡视巡察的整改任务导出为Excel（.xlsx）整改台账。"

    def add_arguments(self, parser):
        parser.add_argument("out", help="导出文件路径（.xlsx）")
        parser.add_argument("--inspection", type=int, required=True, help="巡视巡察编号")
        parser.add_argument("--user", help="只导出该用户可见的任务（不填则导出全部）")

    def handle(self, *args, out, inspection, user, **options):
        inspection_obj = Inspection.objects.filter(pk=inspection).first()
        if inspection_obj is None:
            raise CommandError(f"巡视巡察（编号{inspection}）不存在")
        tasks = Task.objects.all()
        actor = None  # the operator at the server's command line
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"用户“{user}”不存在")
            tasks = task_list(user=actor)
        tasks = tasks.filter(inspection=inspection_obj)
        count = tasks.count()
        Path(out).write_bytes(ledger_export(tasks=tasks))
        audit_record(actor=actor, action=AuditAction.LEDGER_EXPORT, target=inspection_obj,
                     target_label=Path(out).name, note=f"{count}项（命令行导出）")
        self.stdout.write(f"已导出“{inspection_obj.title}”整改任务{count}项：{out}")
