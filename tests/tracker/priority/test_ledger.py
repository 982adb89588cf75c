"""Issue 15, Priority, in the Excel ledger: 重点任务 and 优先级 go out as columns and come back
in; a supervisor's edit is applied through the service (one 调整优先级 row), an officer's edit
of them refuses the file, and a sheet without the columns leaves them as they are."""

import io

import pytest
from openpyxl import load_workbook

from tests.tracker.ledger.helpers import append_row, edit, make_ledger
from tracker.errors import ImportRejected
from tracker.models import Task, TaskAction, TaskEvent, TaskPriority
from tracker.services.ledger import ledger_export, ledger_import, ledger_preview, ledger_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(bureau, county):
    inspection = make_ledger(3, [bureau, county])
    Task.objects.filter(title="任务1").update(is_key=True, priority=TaskPriority.URGENT)
    return inspection


def export(inspection, **narrow) -> bytes:
    return ledger_export(tasks=Task.objects.filter(inspection=inspection, **narrow))


def task(title: str) -> Task:
    return Task.objects.get(title=title)


def test_an_exported_ledger_reads_back_unchanged(ledger, chief):
    data = export(ledger)
    plan = ledger_preview(inspection=ledger, actor=chief, data=data)
    assert plan.counts["unchanged"] == 3
    assert plan.counts["changed"] == 0


def test_a_supervisor_marks_and_unmarks_in_the_sheet_through_the_service(ledger, chief):
    data = edit(export(ledger), {
        "任务1": {"重点任务": None, "优先级": "一般"},
        "任务2": {"重点任务": "是", "优先级": "高"},
    })
    plan = ledger_preview(inspection=ledger, actor=chief, data=data)
    changes = {r.title: [(c.column, c.old, c.new) for c in r.changes] for r in plan.rows}
    assert changes == {
        "任务1": [("重点任务", "是", "否"), ("优先级", "紧急", "一般")],
        "任务2": [("重点任务", "否", "是"), ("优先级", "一般", "高")],
    }
    ledger_import(inspection=ledger, actor=chief, data=data)
    assert (task("任务1").is_key, task("任务1").priority) == (False, TaskPriority.NORMAL)
    assert (task("任务2").is_key, task("任务2").priority) == (True, TaskPriority.HIGH)
    events = TaskEvent.objects.filter(action=TaskAction.SET_PRIORITY)
    assert {e.task.title: e.data for e in events} == {
        "任务1": {"is_key": {"from": True, "to": False}, "priority": {"from": 4, "to": 1}},
        "任务2": {"is_key": {"from": False, "to": True}, "priority": {"from": 1, "to": 3}},
    }
    assert not TaskEvent.objects.filter(action=TaskAction.EDIT).exists()


def test_an_officers_row_may_not_change_them(ledger, alice):
    mine = export(ledger, lead_unit=alice.unit)  # the bureau's 任务1 and 任务3
    versions = dict(Task.objects.values_list("title", "version"))
    data = edit(mine, {"任务3": {"重点任务": "是"}, "任务1": {"整改进展": "已召开专题会"}})
    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=alice, data=data)
    assert info.value.errors == ["第4行：您没有权限调整该任务的重点任务（任务3）"]
    assert not task("任务3").is_key
    assert dict(Task.objects.values_list("title", "version")) == versions


def test_a_sheet_without_the_columns_leaves_them_as_they_are(ledger, chief):
    wb = load_workbook(io.BytesIO(export(ledger)))
    ws = wb.active
    header = [c.value for c in ws[2]]
    for label in ("优先级", "重点任务"):  # the right one first: the left does not move
        ws.delete_cols(header.index(label) + 1)
    out = io.BytesIO()
    wb.save(out)
    plan = ledger_preview(inspection=ledger, actor=chief, data=out.getvalue())
    assert plan.counts["changed"] == 0
    ledger_import(inspection=ledger, actor=chief, data=out.getvalue())
    assert (task("任务1").is_key, task("任务1").priority) == (True, TaskPriority.URGENT)


def test_a_new_row_may_be_a_key_task_and_bad_words_are_named(ledger, chief, bureau):
    data = append_row(export(ledger), {
        "序号": 9, "反馈问题": "新问题", "整改任务": "新重点任务", "整改措施": "专项整治",
        "责任单位": bureau.name, "完成时限": "2027-06-30", "重点任务": "是", "优先级": "紧急",
    })
    ledger_import(inspection=ledger, actor=chief, data=data)
    assert (task("新重点任务").is_key, task("新重点任务").priority) == (True, TaskPriority.URGENT)
    bad = edit(export(ledger), {"任务2": {"重点任务": "也许", "优先级": "非常急"}})
    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=chief, data=bad)
    assert info.value.errors == [
        "第4行：重点任务“也许”无法识别，请填写“是”或留空",
        "第4行：优先级“非常急”无法识别，可填写：一般、较高、高、紧急",
    ]


def test_the_template_explains_both_columns():
    guide = load_workbook(io.BytesIO(ledger_template())).worksheets[1]
    rows = {r[0].value: [c.value for c in r] for r in guide.iter_rows() if r[0].value}
    assert "只有督导人员可以修改" in rows["重点任务"][2]
    assert rows["优先级"][3] == "一般、较高、高、紧急"
