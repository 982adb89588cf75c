"""Task.get_status_display / get_task_type_display (one dict, built once) answer what
Django's generated methods answer, for every choice and for a value that is not one."""

import pytest

from tracker.models import Task, TaskStatus, TaskType


@pytest.mark.parametrize(("field", "values"), [
    ("status", [*TaskStatus.values, "no_such_status", ""]),
    ("task_type", [*TaskType.values, "no_such_type"]),
])
def test_the_same_label_as_django_s_generic_display(field, values):
    model_field = Task._meta.get_field(field)
    for value in values:
        task = Task(**{field: value})
        ours = getattr(task, f"get_{field}_display")()
        assert ours == task._get_FIELD_display(model_field), value
        assert type(ours) is str


def test_the_methods_are_ours_not_django_s():
    # Django only generates get_<field>_display when the class does not define it.
    assert "get_status_display" in Task.__dict__
    assert "get_task_type_display" in Task.__dict__
    assert Task(status=TaskStatus.COMPLETED).get_status_display() == TaskStatus.COMPLETED.label
