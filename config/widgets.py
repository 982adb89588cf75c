"""Widgets of the pages' forms.

`PlainSelect` is Django's `forms.Select` with the same markup, written out in Python instead
of through the form renderer's templates: the renderer renders one template per <option>
(and one more for its attributes), and a filter listing the reader's inspections spent more
time there than the task list's own query (docs/performance.md, 任务列表). The options, their
order, the selected one and the attributes are the widget's own (`get_context`); only the
writing of the HTML is done here.
"""

from django import forms
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
