"""PlainSelect writes the same <select> as Django's Select (compared as parsed HTML): the
options, their order, the selected one, optgroups and attributes, with escaping."""

import pytest
from django import forms
from django.test.html import parse_html

from config.widgets import PlainSelect
from tests.tracker.factories import InspectionFactory
from tracker.models import Inspection
from tracker.web.forms import ACK_CHOICES, TaskFilterForm

CHOICES = [
    ("", "全部"),
    ("a", "甲 <b>&"),
    ("组", [("1", "一"), ("2", "二\"")]),
    (3, "三"),
]


@pytest.mark.parametrize("value", [None, "", "a", "2", 3, ["a"]])
@pytest.mark.parametrize("attrs", [None, {"class": "form-select", "id": "x", "disabled": True,
                                          "data-q": 'a"b', "hidden": False}])
def test_the_same_markup_as_django_s_select(value, attrs):
    plain = PlainSelect(choices=CHOICES).render("f<", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("f<", value, attrs=attrs)
    assert parse_html(plain) == parse_html(django)
    assert "<b>" not in plain
    assert "&lt;b&gt;" in plain


@pytest.mark.django_db
def test_the_task_filter_s_inspections_as_django_would_write_them():
    InspectionFactory(title="第一轮 <巡视>")
    InspectionFactory(title="第二轮")
    chosen = Inspection.objects.order_by("id").last()
    form = TaskFilterForm({"inspection": chosen.pk, "status": "overdue", "is_key": "true",
                           "priority": "3", "ack": ACK_CHOICES[-1][0]},
                          inspections=Inspection.objects.order_by("id"))
    assert form.is_valid()
    for name in ("inspection", "status", "is_key", "priority", "ack"):
        field = form[name]
        django = forms.Select(choices=field.field.choices, attrs=field.field.widget.attrs)
        expected = django.render(field.html_name, field.value(),
                                 attrs={"id": field.auto_id})
        assert parse_html(str(field)) == parse_html(expected), name
    assert f'<option value="{chosen.pk}" selected>' in str(form["inspection"])
    assert "第一轮 &lt;巡视&gt;" in str(form["inspection"])
