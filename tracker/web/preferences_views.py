"""通知设置: every logged-in user chooses which events they hear of, on which channels, and
whether at once or in the daily digest. The view only parses the form and calls the service
(tracker.reminders.preferences); the sender honours what is stored."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tracker.models import DeliveryMode, EventType, NotificationPreference
from tracker.reminders.preferences import (
    EDITABLE,
    notification_preferences_update,
    preference_of,
)

EVENT_FIELDS = tuple(f"on_{event}" for event in EventType.values)


class NotificationPreferenceForm(forms.ModelForm):
    mode = forms.ChoiceField(
        label="发送方式", choices=DeliveryMode.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": "请选择“即时”或“每日汇总”"},
    )

    class Meta:
        model = NotificationPreference
        fields = list(EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    current = preference_of(request.user)
    form = NotificationPreferenceForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        notification_preferences_update(
            user=request.user, **{name: form.cleaned_data[name] for name in EDITABLE}
        )
        messages.success(request, "通知设置已保存")
        return redirect("web:notification_preferences")
    return render(request, "web/preferences.html", {
        "title": "通知设置",
        "form": form,
        "event_fields": [form[name] for name in EVENT_FIELDS],
        "email": request.user.email,
    }, status=400 if request.method == "POST" else 200)
