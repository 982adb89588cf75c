from django import forms

from tracker.models import Inspection


class DashboardFilterForm(forms.Form):
    inspection = forms.ModelChoiceField(
        label="巡视巡察", queryset=Inspection.objects.none(), required=False,
        empty_label="全部巡视巡察", widget=forms.Select(attrs={"class": "form-select"}),
    )
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, inspections, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections


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
