from django.core.management.base import BaseCommand
from django.utils import timezone

from reports.demo import load_demo_report
from tracker.demo.loader import load_demo
from tracker.models import User


class Command(BaseCommand):
    help = (
        "载入演示数据（虚构的江屿市）：单位、用户、巡视巡察、问题和各状态的整改任务。"
        "可重复运行。"
    )

    def handle(self, *args, **options):
        today = timezone.localdate()
        summary = load_demo(today=today)
        if load_demo_report(today=today, supervisor=User.objects.get(username="zgb")):
            self.stdout.write("演示报告：已导入一份整改进展情况汇报，并确认其整改数据（可在“核对发现”查看）。")
        self.stdout.write(
            f"演示数据：新建单位{summary.units_created}个、用户{summary.users_created}个、"
            f"巡视巡察{summary.inspections_created}轮、整改任务{summary.tasks_created}项。"
        )
        self.stdout.write("演示账号（用户名 / 密码）：")
        for username, password, description in summary.logins:
            self.stdout.write(f"  {username:<12} {password}  {description}")
