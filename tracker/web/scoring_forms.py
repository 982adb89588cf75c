"""The period picker of the ranking page (考评排名): it only parses; tracker.figures.scoring
decides what a period is and refuses one out of bounds."""

import datetime as dt

from django import forms

from tracker.errors import InvalidInput
from tracker.figures import scoring
from tracker.web.forms import BootstrapMixin

KINDS = [("month", "月度"), ("quarter", "季度"), ("year", "年度"), ("custom", "自定义")]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label="期间", choices=KINDS, initial="month")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)
    month = forms.TypedChoiceField(label="月份", coerce=int, required=False,
                                   choices=[(m, f"{m}月") for m in range(1, 13)])
    quarter = forms.TypedChoiceField(label="季度", coerce=int, required=False,
                                     choices=[(q, f"第{c}季度") for q, c in
                                              enumerate(scoring.QUARTERS, start=1)])
    start = forms.DateField(label="开始日期", required=False, widget=DATE)
    end = forms.DateField(label="结束日期", required=False, widget=DATE)
    top = forms.IntegerField(label="通报单位数", min_value=1, max_value=scoring.TOP_N_MAX,
                             required=False, help_text="表现较好、进度滞后各列几个")

    def period(self, *, today: dt.date) -> scoring.Period:
        """The period chosen (InvalidInput, in Chinese, when it cannot be one)."""
        data = self.cleaned_data
        kind, year = data["kind"], data.get("year") or today.year
        if kind == "custom":
            if not (data.get("start") and data.get("end")):
                raise InvalidInput("自定义期间请填写开始日期和结束日期",
                                   fields={"end": "请填写开始日期和结束日期"})
            return scoring.custom_period(data["start"], data["end"], today=today)
        if kind == "quarter":
            return scoring.period_from_key(f"{year}-Q{data.get('quarter') or 1}", today=today)
        if kind == "year":
            return scoring.period_from_key(str(year), today=today)
        return scoring.period_from_key(f"{year}-{data.get('month') or today.month:02d}",
                                       today=today)

    @staticmethod
    def initial_for(period: scoring.Period) -> dict:
        return {"kind": "month", "year": period.start.year, "month": period.start.month,
                "quarter": (period.start.month - 1) // 3 + 1, "top": scoring.TOP_N_DEFAULT}
