from django import forms

from config.widgets import ListedModelChoiceField, PlainSelect
from tracker.models import Inspection, Problem, TaskPriority, TaskType, Unit


class DashboardFilterForm(forms.Form):
    inspection = ListedModelChoiceField(
        label="巡视巡察", queryset=Inspection.objects.none(), required=False,
        empty_label="全部巡视巡察", widget=PlainSelect(attrs={"class": "form-select"}),
        label_field="title",
    )
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # 重点任务 only: the tables, the overdue list and the trend (docs/priority.md).
    is_key = forms.BooleanField(
        label="只看重点任务", required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, inspections=None, inspection_choices=None, **kwargs):
        """As tracker.web.forms.TaskFilterForm: the inspections that may be chosen are
        `inspection_choices`, (pk, title) pairs, or else the queryset `inspections`."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["inspection"].offer(queryset=inspections, rows=inspection_choices)


class MonthlyReportForm(forms.Form):
    inspection = forms.ModelChoiceField(
        label="巡视巡察", queryset=Inspection.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    as_of = forms.DateField(
        label="截至日期",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"},
                               format="%Y-%m-%d"),
    )

    def __init__(self, *args, inspections, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections


class ReportUploadForm(forms.Form):
    file = forms.FileField(
        label="报告文件",
        # An empty file is the reader's to refuse, by name ("文件为空"), not "请选择文件".
        allow_empty_file=True,
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".txt,.docx,.pdf"}
        ),
        help_text="支持 .txt（UTF-8、GBK、GB18030、UTF-16）、.docx 和带文字层的 .pdf。",
    )


class FigureConfirmForm(forms.Form):
    inspection = forms.ModelChoiceField(
        label="对应巡视巡察", queryset=Inspection.objects.none(),
        error_messages={"invalid_choice": "该巡视巡察不存在或不在您的查看范围内",
                        "required": "请选择对应的巡视巡察"},
    )

    def __init__(self, *args, inspections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections


class ReportDetailsForm(forms.Form):
    """报告日期 and 对应巡视巡察 of a report: reconciliation reads the ledger as of that date."""

    report_date = forms.DateField(label="报告日期", required=False,
                                  error_messages={"invalid": "请填写有效的日期"})
    inspection = forms.ModelChoiceField(
        label="对应巡视巡察", queryset=Inspection.objects.none(), required=False,
        error_messages={"invalid_choice": "该巡视巡察不存在或不在您的查看范围内"},
    )

    def __init__(self, *args, inspections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections


class ProblemConfirmForm(FigureConfirmForm):
    aspect = forms.CharField(label="所属方面", max_length=200, required=False)


class MeasureConfirmForm(forms.Form):
    problem = forms.ModelChoiceField(
        label="对应反馈问题", queryset=Problem.objects.none(),
        error_messages={"invalid_choice": "该反馈问题不存在或不在您的查看范围内",
                        "required": "请选择对应的反馈问题"},
    )
    lead_unit = forms.ModelChoiceField(
        label="牵头单位", queryset=Unit.objects.none(),
        error_messages={"invalid_choice": "该单位不在您的督导范围内",
                        "required": "请选择牵头单位"},
    )
    deadline = forms.DateField(label="完成时限", required=False)
    task_type = forms.ChoiceField(label="整改类型", choices=TaskType.choices,
                                  initial=TaskType.BY_DEADLINE)
    is_key = forms.BooleanField(label="重点任务", required=False)
    priority = forms.TypedChoiceField(label="优先级", choices=TaskPriority.choices, coerce=int,
                                      required=False, empty_value=TaskPriority.NORMAL)

    def __init__(self, *args, problems, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["problem"].queryset = problems
        self.fields["lead_unit"].queryset = units


def first_error(form: forms.Form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}：{errors[0]}" if label else errors[0]
    return "填写的内容有误"
