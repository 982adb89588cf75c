"""Forms of the supervision notice pages: they only parse; tracker.services.notices decides."""

from django import forms

from tracker.models import NoticeColour, NoticeState
from tracker.web.forms import BootstrapMixin


class NoticeIssueForm(BootstrapMixin, forms.Form):
    tasks = forms.TypedMultipleChoiceField(
        label="督办任务", coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一项整改任务"},
    )
    colour = forms.ChoiceField(label="督办等级", choices=NoticeColour.choices,
                               widget=forms.RadioSelect,
                               help_text="蓝色：临近完成时限；黄色：进度滞后或质量不高；红色：已逾期")
    reason = forms.CharField(label="督办事由", max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    requirements = forms.CharField(label="督办要求", max_length=4000, required=False,
                                   widget=forms.Textarea(attrs={"rows": 3}))
    reply_by = forms.DateField(label="回复期限",
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               help_text="须为今天以后的工作日")

    def __init__(self, *args, tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tasks"].choices = [(task.pk, task.title) for task in tasks]
        for name in ("tasks", "colour"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


class NoticeReplyForm(BootstrapMixin, forms.Form):
    reply = forms.CharField(label="回复内容", max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="整改落实情况、下步措施和完成时间")


class NoticeFilterForm(BootstrapMixin, forms.Form):
    state = forms.ChoiceField(label="状态", required=False,
                              choices=[("", "全部状态"), *NoticeState.choices])
    colour = forms.ChoiceField(label="督办等级", required=False,
                               choices=[("", "全部等级"), *NoticeColour.choices])
    unit = forms.ModelChoiceField(label="承办单位", required=False, queryset=None,
                                  empty_label="全部单位")

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units

    def notice_filters(self) -> dict:
        data = self.cleaned_data
        filters = {name: data[name] for name in ("state", "colour") if data.get(name)}
        if data.get("unit"):
            filters["unit"] = data["unit"].pk
        return filters
