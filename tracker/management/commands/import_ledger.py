from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.errors import DomainError, ImportRejected
from tracker.models import Inspection, User
from tracker.services.ledger import ROW_KIND_LABELS, ledger_import, ledger_preview


class Command(BaseCommand):
    help = (
        "导入Excel（.xlsx）整改台账：按系统编号更新已有任务、新建其余任务，未变的行不做任何修改，"
        "导出后已在系统中被修改的行列为冲突、不覆盖；有任何错误则整份不导入。"
        "加 --dry-run 只显示预览。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="整改台账文件（.xlsx）")
        parser.add_argument("--inspection", type=int, required=True, help="巡视巡察编号")
        parser.add_argument("--user", required=True, help="以该用户的身份导入（按其权限逐行校验）")
        parser.add_argument("--dry-run", action="store_true", help="只显示预览，不写入任何内容")

    def handle(self, *args, path, inspection, user, dry_run, **options):
        inspection_obj = Inspection.objects.filter(pk=inspection).first()
        if inspection_obj is None:
            raise CommandError(f"巡视巡察（编号{inspection}）不存在")
        actor = User.objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"用户“{user}”不存在")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"文件“{path}”不存在")
        kwargs = {"inspection": inspection_obj, "actor": actor, "data": file.read_bytes(),
                  "filename": file.name}
        try:
            if dry_run:
                self._print_preview(ledger_preview(**kwargs))
                return
            result = ledger_import(**kwargs)
        except ImportRejected as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(exc.message) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for line in result.conflicts:
            self.stderr.write(f"冲突 {line}")
        self.stdout.write(f"“{inspection_obj.title}”{result.message}")

    def _print_preview(self, plan) -> None:
        counts = plan.counts
        self.stdout.write(
            f"预览：新增{counts['new']}行，修改{counts['changed']}行，未变{counts['unchanged']}行，"
            f"冲突{counts['conflict']}行，错误{counts['errors']}处"
        )
        for row in plan.rows:
            label = ROW_KIND_LABELS[row.kind]
            cells = "；".join(f"{c.column} “{c.old}” → “{c.new}”" for c in row.changes)
            line = f"第{row.row}行 {label} {row.title}：{cells}"
            if row.reason:
                line += f"（{row.reason}）"
            self.stdout.write(line)
        for error in sorted(plan.errors):
            self.stdout.write(f"错误 {error}")
