import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from tracker import workdays
from tracker.errors import DomainError
from tracker.models import HolidayKind
from tracker.selectors import holiday_overrides
from tracker.services.calendar import holiday_set_period


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text}") from exc


class Command(BaseCommand):
    help = "维护节假日安排：录入法定节假日或调休上班日，或查看某年的安排。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        set_ = sub.add_parser("set", help="录入一天或一段日期（含首尾）")
        set_.add_argument("date", help="日期 YYYY-MM-DD")
        set_.add_argument("date2", nargs="?", help="结束日期 YYYY-MM-DD（可选）")
        kind = set_.add_mutually_exclusive_group(required=True)
        kind.add_argument("--holiday", action="store_true", help="法定节假日（放假）")
        kind.add_argument("--workday", action="store_true", help="调休上班")
        set_.add_argument("--name", required=True, help="节日名称，如：春节")
        show = sub.add_parser("show", help="查看某年的节假日安排")
        show.add_argument("year", type=int)

    def handle(self, *args, action, **options):
        if action == "set":
            self._set(**options)
        else:
            self._show(options["year"])

    def _set(self, *, date, date2, holiday, workday, name, **options):
        start = _date(date)
        end = _date(date2) if date2 else start
        kind = HolidayKind.HOLIDAY if holiday else HolidayKind.WORKDAY
        try:
            rows = holiday_set_period(start=start, end=end, kind=kind, name=name)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"已录入{name}：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}，共{len(rows)}天，"
            f"{kind.label}"
        )

    def _show(self, year: int):
        rows = list(holiday_overrides(year=year))
        if workdays.year_known_to_package(year):
            source = "chinesecalendar 包已包含该年安排"
            if rows:
                source += f"，另有管理员录入的{len(rows)}天（优先）"
        elif rows:
            source = f"由管理员录入（{len(rows)}天）"
        else:
            source = "尚未录入：按周一至周五为工作日计算"
        self.stdout.write(f"{year}年节假日安排：{source}")
        days = [dt.date(year, 1, 1) + dt.timedelta(days=i)
                for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
        names = {row.date: row.name for row in rows}
        holidays = [d for d in days if d.weekday() < 5 and not workdays.is_workday(d)]
        adjusted = [d for d in days if d.weekday() >= 5 and workdays.is_workday(d)]
        self.stdout.write(f"法定节假日（工作日放假，{len(holidays)}天）：")
        for day in holidays:
            self.stdout.write(f"  {day:%Y-%m-%d} {_weekday(day)} {names.get(day, '')}".rstrip())
        self.stdout.write(f"调休上班（周末上班，{len(adjusted)}天）：")
        for day in adjusted:
            self.stdout.write(f"  {day:%Y-%m-%d} {_weekday(day)} {names.get(day, '')}".rstrip())


def _weekday(day: dt.date) -> str:
    return "周" + "一二三四五六日"[day.weekday()]
