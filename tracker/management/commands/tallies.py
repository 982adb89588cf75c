"""manage.py tallies --check | --rebuild: the maintained task counts (TaskTally,
TaskMonthTally)."""

from django.core.management.base import BaseCommand, CommandError

from tracker.figures.tallies import COUNTERS, tally_check, tally_rebuild
from tracker.models import NO_DEADLINE_MONTH

SHOWN = 20  # mismatches printed at most


class Command(BaseCommand):
    help = "核对或重建任务计数（统计汇总所用的维护计数）"

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true",
                            help="将维护的计数与按任务重新统计的结果逐项核对，不一致时以非零状态退出")
        action.add_argument("--rebuild", action="store_true", help="按任务重新统计全部计数")

    def handle(self, *args, check, rebuild, **options):
        if rebuild:
            rows = tally_rebuild()
            self.stdout.write(f"任务计数已重建：共{rows}个分组。")
            return
        mismatches = tally_check()
        if not mismatches:
            self.stdout.write("任务计数核对一致。")
            return
        for m in mismatches[:SHOWN]:
            key = dict(zip(m.table.key, m.key, strict=True))
            month = key["deadline_month"]
            month_text = "无完成时限" if month == NO_DEADLINE_MONTH else f"{month:%Y-%m}"
            aspect = f"，方面“{key['aspect']}”" if "aspect" in key else ""
            maintained, recounted = m.maintained or {}, m.recounted or {}
            model = m.table.model
            differences = "，".join(
                f"{model._meta.get_field(name).verbose_name}维护{maintained.get(name, 0)}"
                f"/重新统计{recounted.get(name, 0)}"
                for name in COUNTERS
                if maintained.get(name, 0) != recounted.get(name, 0)
            )
            self.stderr.write(
                f"不一致（{model._meta.verbose_name}）：牵头单位{key['lead_unit_id']}，"
                f"巡视巡察{key['inspection_id']}{aspect}，时限月份{month_text}：{differences}"
            )
        raise CommandError(
            f"任务计数与按任务重新统计的结果不一致：{len(mismatches)}个分组不符。"
            "请执行 manage.py tallies --rebuild 重建。"
        )
