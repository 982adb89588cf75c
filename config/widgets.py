"""Widgets of the pages' forms.

`PlainSelect` is Django's `forms.Select` with the same markup, written out in Python instead
of through the form renderer's templates: the renderer renders one template per <option>
(and one more for its attributes), and a filter listing the reader's inspections spent more
time there than the task list's own query (docs/performance.md, 任务列表). The options, their
order, the selected one and the attributes are the widget's own (`get_context`); only the
writing of the HTML is done here.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.choices import BaseChoiceIterator
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


def _attributes(attrs: dict) -> str:
    """` name="value"` for each attribute, ` name` for True, nothing for False, as
    django/forms/widgets/attrs.html writes them."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


class PlainSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        lines = [f'<select name="{conditional_escape(widget["name"])}"'
                 f'{_attributes(widget["attrs"])}>']
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                lines.append(format_html('  <optgroup label="{}">', group_name))
            for option in options:
                lines.append(
                    f'  <option value="{conditional_escape(str(option["value"]))}"'
                    f'{_attributes(option["attrs"])}>{conditional_escape(option["label"])}'
                    "</option>"
                )
            if group_name:
                lines.append("  </optgroup>")
        lines.append("</select>")
        return mark_safe("\n".join(lines))


class _ListedChoices(BaseChoiceIterator):
    """The field's options, read on first use (a render) and kept for the rest of it."""

    def __init__(self, field):
        self.field = field
        self.rows = None

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.rows is None:
            self.rows = self.field.rows
        if self.rows is None:
            self.rows = list(self.field.queryset.values_list("pk", self.field.label_field))
        yield from self.rows


class ListedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose options are read as (pk, label) pairs in one plain query.

    Django iterates the queryset with `.iterator()` on every render: on PostgreSQL a
    server-side cursor (DECLARE, FETCH, CLOSE: three round trips) and a model instance per
    option. A filter's short list (the reader's inspections) needs neither. `label_field` is
    the column the option shows, as the model's `__str__` writes it.

    `rows`, when the form sets them, are those pairs already read (a cache of the queryset's
    options): then a submitted pk must be one of them, and the chosen object is fetched from
    the queryset by its pk alone (the queryset may be the whole table; the options decide what
    may be chosen). Without rows, validation is Django's."""

    def __init__(self, *args, label_field: str, **kwargs):
        self.label_field = label_field
        self.rows: list[tuple] | None = None
        super().__init__(*args, **kwargs)

    def offer(self, *, queryset=None, rows=None) -> None:
        """What may be chosen: `rows`, (pk, label) pairs already read, or else the options
        of `queryset` (read when the field is shown)."""
        if queryset is None and rows is None:
            raise TypeError("ListedModelChoiceField needs a queryset or rows")
        self.queryset = self.queryset.model.objects.all() if queryset is None else queryset
        self.rows = rows

    def _get_choices(self):
        if hasattr(self, "_choices"):
            return self._choices
        return _ListedChoices(self)

    def to_python(self, value):
        chosen = self.rows is not None and value not in self.empty_values
        if chosen and str(value) not in {str(pk) for pk, _ in self.rows}:
            raise ValidationError(self.error_messages["invalid_choice"],
                                  code="invalid_choice", params={"value": value})
        return super().to_python(value)

    choices = property(_get_choices, forms.ChoiceField.choices.fset)
