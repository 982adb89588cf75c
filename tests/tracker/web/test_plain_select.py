"""PlainSelect writes the same <select> as Django's Select (compared as parsed HTML): the
options, their order, the selected one, optgroups and attributes, with escaping."""

import re

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


def _options(select: str) -> str:
    return "".join(re.findall(r"<option.*?</option>", select))


@pytest.mark.django_db
@pytest.mark.parametrize("chosen", [None, "first", "last"])
def test_listed_inspections_are_the_options_django_s_model_field_writes(
    chosen, django_assert_num_queries
):
    """ListedModelChoiceField: the options, order, labels and the selected one of Django's
    ModelChoiceField over the same queryset, read in one plain statement (no server-side
    cursor, no instances); a submitted pk is validated against the same queryset."""
    InspectionFactory(title="第一轮 <巡视>")
    InspectionFactory(title="第二轮")
    InspectionFactory(title="第三轮")
    inspections = Inspection.objects.exclude(title="第二轮").order_by("-id")
    pick = {None: None, "first": inspections.last(), "last": inspections.first()}[chosen]
    data = {"inspection": pick.pk} if pick else {}

    class DjangoForm(forms.Form):
        inspection = forms.ModelChoiceField(queryset=inspections, required=False,
                                            empty_label="全部巡视巡察", widget=PlainSelect)

    form = TaskFilterForm(data, inspections=inspections)
    assert form.is_valid()
    assert form.cleaned_data["inspection"] == pick
    with django_assert_num_queries(1) as captured:
        listed = str(form["inspection"])
    assert "DECLARE" not in captured.captured_queries[0]["sql"]
    expected = str(DjangoForm(data)["inspection"])
    assert parse_html(_options(listed)) == parse_html(_options(expected))
    assert listed.count("<option") == 3  # 全部巡视巡察 and the two inspections
    assert "第二轮" not in listed
    assert listed.index("第三轮") < listed.index("第一轮 &lt;巡视&gt;")


@pytest.mark.django_db
def test_a_listed_field_refuses_an_inspection_outside_its_queryset():
    InspectionFactory(title="可见")
    hidden = InspectionFactory(title="不可见")
    form = TaskFilterForm({"inspection": hidden.pk},
                          inspections=Inspection.objects.exclude(pk=hidden.pk))
    assert not form.is_valid()
    assert "inspection" in form.errors
