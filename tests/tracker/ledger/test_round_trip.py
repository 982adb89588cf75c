"""The ledger as a round trip: export, edit in Excel, preview, apply.

Rows are matched by the hidden 系统编号 (task id); unchanged rows change nothing, edited rows
go through the task services (one history row per change), rows edited after the tracker moved
on are conflicts, and any error refuses the whole file."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.tracker.factories import ProgressReportFactory, TaskFactory
from tests.tracker.ledger.helpers import append_row, edit, make_ledger, open_sheet, row_of
from tracker.errors import ImportRejected
from tracker.ledger_excel.reading import META_SHEET
from tracker.models import Problem, Task, TaskAction, TaskEvent, TaskStatus
from tracker.services import tasks as task_services
from tracker.services.ledger import (
    ledger_apply,
    ledger_export,
    ledger_import,
    ledger_preview,
    ledger_template,
    transition_path,
)

pytestmark = pytest.mark.django_db


def export(inspection) -> bytes:
    return ledger_export(tasks=Task.objects.filter(inspection=inspection))


@pytest.fixture
def ledger(bureau, county):
    return make_ledger(4, [bureau, county])


def task(title: str) -> Task:
    return Task.objects.get(title=title)


# --- Unchanged, changed, new -------------------------------------------------------------------


def test_an_unchanged_ledger_changes_nothing(ledger, chief):
    data = export(ledger)
    versions = dict(Task.objects.values_list("id", "version"))
    events = TaskEvent.objects.count()

    plan = ledger_preview(inspection=ledger, actor=chief, data=data)
    result = ledger_import(inspection=ledger, actor=chief, data=data)

    assert plan.counts == {"new": 0, "changed": 0, "unchanged": 4, "conflict": 0, "errors": 0}
    assert (result.tasks_created, result.tasks_updated, result.unchanged) == (0, 0, 4)
    assert TaskEvent.objects.count() == events
    assert dict(Task.objects.values_list("id", "version")) == versions


def test_two_edited_cells_are_previewed_old_to_new_and_applied_with_one_history_row_each(
    ledger, chief
):
    data = edit(export(ledger), {
        "任务1": {"完成时限": "2027年3月31日"},
        "任务2": {"责任人": "新责任人"},
    })

    plan = ledger_preview(inspection=ledger, actor=chief, data=data)

    assert [(r.row, r.kind, [c.__dict__ for c in r.changes]) for r in plan.rows] == [
        (3, "changed", [{"column": "完成时限", "old": "2026年12月31日", "new": "2027年3月31日"}]),
        (4, "changed", [{"column": "责任人", "old": "李科长", "new": "新责任人"}]),
    ]
    assert plan.unchanged == 2
    versions = {t.title: t.version for t in Task.objects.all()}

    result = ledger_apply(inspection=ledger, actor=chief, data=data,
                          expected_fingerprint=plan.fingerprint)

    assert result.tasks_updated == 2
    one, two = task("任务1"), task("任务2")
    assert one.deadline == dt.date(2027, 3, 31)
    assert two.responsible_person == "新责任人"
    assert one.version == versions["任务1"] + 1
    assert task("任务3").version == versions["任务3"]
    edits = TaskEvent.objects.filter(action=TaskAction.EDIT)
    assert [(e.task.title, e.deadline_to) for e in edits.order_by("task__title")] == [
        ("任务1", dt.date(2027, 3, 31)), ("任务2", None),
    ]
    assert edits.get(task=two).data == {"responsible_person": {"from": "李科长", "to": "新责任人"}}


def test_a_row_without_a_key_is_a_new_task_and_a_known_problem_number_is_reused(ledger, chief,
                                                                               bureau):
    data = append_row(export(ledger), {
        "序号": 1, "反馈问题": "问题1", "整改任务": "新增任务", "整改措施": "新措施",
        "责任单位": "市教育局", "完成时限": "2026-10-31", "完成情况": "整改中",
    })

    plan = ledger_preview(inspection=ledger, actor=chief, data=data)
    assert [(r.kind, r.title) for r in plan.rows] == [("new", "新增任务")]

    result = ledger_import(inspection=ledger, actor=chief, data=data)

    created = task("新增任务")
    assert (result.tasks_created, result.problems_created) == (1, 0)
    assert created.problem == Problem.objects.get(inspection=ledger, number=1)
    assert created.status == TaskStatus.IN_PROGRESS


def test_a_status_edit_runs_each_transition_through_the_services(ledger, chief):
    data = edit(export(ledger), {"任务1": {"完成情况": "已销号", "整改进展": "全部完成"}})

    ledger_import(inspection=ledger, actor=chief, data=data)

    one = task("任务1")
    assert one.status == TaskStatus.COMPLETED
    assert one.closed_at is not None
    assert list(one.events.exclude(action=TaskAction.CREATE).values_list("action", flat=True)
                .order_by("id")) == ["progress", "submit", "close"]
    assert one.progress_reports.get().note == "全部完成"


def test_transition_paths_follow_the_rule_book():
    S, A = TaskStatus, TaskAction
    assert transition_path(S.IN_PROGRESS, S.COMPLETED) == [A.SUBMIT, A.CLOSE]
    assert transition_path(S.NOT_STARTED, S.SUBMITTED) == [A.START, A.SUBMIT]
    assert transition_path(S.COMPLETED, S.IN_PROGRESS) == [A.REOPEN]
    assert transition_path(S.SUBMITTED, S.SUBMITTED) == []


# --- Conflicts ---------------------------------------------------------------------------------


def test_a_row_edited_after_the_tracker_changed_its_task_is_a_conflict_not_overwritten(
    ledger, chief
):
    data = export(ledger)
    task_services.task_update(task=task("任务1"), actor=chief, responsible_person="系统里改的")
    task_services.task_update(task=task("任务2"), actor=chief, responsible_person="也在系统里改")
    data = edit(data, {"任务1": {"责任人": "表格里改的"}})

    plan = ledger_preview(inspection=ledger, actor=chief, data=data)
    result = ledger_import(inspection=ledger, actor=chief, data=data)

    assert [(r.row, r.kind) for r in plan.rows] == [(3, "conflict")]
    assert "导出后该任务已在系统中被修改（导出时第1版，当前第2版）" in plan.rows[0].reason
    # 任务2 was not edited in the sheet: the tracker's newer value stands, no conflict.
    assert plan.unchanged == 3
    assert task("任务1").responsible_person == "系统里改的"
    assert task("任务2").responsible_person == "也在系统里改"
    assert result.conflicts == (f"第3行：{plan.rows[0].reason}",)


def test_a_confirm_after_the_tasks_changed_since_the_preview_applies_nothing(ledger, chief):
    data = edit(export(ledger), {"任务1": {"责任人": "甲"}, "任务3": {"责任领导": "乙"}})
    plan = ledger_preview(inspection=ledger, actor=chief, data=data)
    task_services.task_update(task=task("任务3"), actor=chief, measures="系统里改的措施")

    with pytest.raises(ImportRejected) as info:
        ledger_apply(inspection=ledger, actor=chief, data=data,
                     expected_fingerprint=plan.fingerprint)

    assert info.value.errors == [
        "预览之后，台账涉及的任务已在系统中发生变化，未导入任何内容，请重新上传预览"
    ]
    assert task("任务1").responsible_person == "李科长"


def test_one_bad_row_refuses_the_whole_file(ledger, chief):
    data = edit(export(ledger), {
        "任务1": {"责任人": "甲"},
        "任务2": {"完成时限": "明年"},
    })

    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=chief, data=data)

    assert info.value.errors == ["第4行：完成时限“明年”不是有效日期"]
    assert task("任务1").responsible_person == "李科长"
    assert not TaskEvent.objects.filter(action=TaskAction.EDIT).exists()


def test_a_copied_row_with_its_key_and_an_edited_key_are_refused(ledger, chief):
    data = export(ledger)
    wb, ws, columns = open_sheet(data)
    key = columns["系统编号（请勿修改）"]
    first = row_of(ws, columns, "任务1")
    ws.cell(row_of(ws, columns, "任务2"), key).value = ws.cell(first, key).value
    ws.cell(row_of(ws, columns, "任务3"), key).value = 999999
    out = io.BytesIO()
    wb.save(out)

    plan = ledger_preview(inspection=ledger, actor=chief, data=out.getvalue())

    assert [str(e) for e in plan.errors] == [
        f"第4行：系统编号“{task('任务1').pk}”与第3行重复：复制的行请清空系统编号",
        "第5行：系统编号“999999”对应的任务不存在、不属于该巡视巡察或不在您的范围内",
    ]


# --- Permissions per role ----------------------------------------------------------------------


def test_an_officer_may_submit_by_editing_the_status_but_not_close(ledger, alice, chief):
    data = export(ledger)  # alice's own tasks are 任务1 and 任务3 (the bureau's)
    mine = ledger_export(tasks=Task.objects.filter(inspection=ledger, lead_unit=alice.unit))

    submitted = edit(mine, {"任务1": {"完成情况": "已提交待审核"}})
    ledger_import(inspection=ledger, actor=alice, data=submitted)
    assert task("任务1").status == TaskStatus.SUBMITTED

    closing = edit(ledger_export(tasks=Task.objects.filter(lead_unit=alice.unit)),
                   {"任务1": {"完成情况": "已完成整改（已销号）"}})
    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=alice, data=closing)
    assert info.value.errors == [
        "第3行：您没有权限执行“审核销号”，不能将完成情况由“已提交待审核”改为“已完成整改（已销号）”（任务1）"
    ]
    assert task("任务1").status == TaskStatus.SUBMITTED

    # Another unit's row (the county's 任务2, from the supervisor's export) is unknown to her.
    other = edit(data, {"任务2": {"整改进展": "代填"}})
    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=alice, data=other)
    pk = task("任务2").pk
    unknown = f"第4行：系统编号“{pk}”对应的任务不存在、不属于该巡视巡察或不在您的范围内"
    assert unknown in info.value.errors

    # Plan fields are a supervisor's: an officer's deadline edit is refused, the row named.
    moved = edit(mine, {"任务3": {"完成时限": "2027-01-31"}})
    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=alice, data=moved)
    assert info.value.errors == ["第4行：您没有权限修改该任务的完成时限（任务3）"]


def test_a_supervisor_outside_the_subtree_cannot_touch_its_rows(ledger, sam, chief):
    data = edit(export(ledger), {"任务1": {"责任人": "区里改的"}, "任务2": {"责任人": "区里的"}})

    plan = ledger_preview(inspection=ledger, actor=sam, data=data)

    # 任务1 is the bureau's (outside the county): unknown to sam; 任务2 is the county's.
    assert [str(e) for e in plan.errors] == [
        f"第3行：系统编号“{task('任务1').pk}”对应的任务不存在、不属于该巡视巡察或不在您的范围内",
        f"第5行：系统编号“{task('任务3').pk}”对应的任务不存在、不属于该巡视巡察或不在您的范围内",
    ]
    assert [(r.row, r.kind) for r in plan.rows] == [(4, "changed")]


# --- Formula-like text, print setup, template --------------------------------------------------


def test_formula_like_text_carries_the_quote_prefix_and_reads_back_unchanged(bureau, chief):
    inspection = make_ledger(1, [bureau])
    TaskFactory(problem=Problem.objects.get(inspection=inspection), title="=SUM(1,2)",
                measures="+86 0571 电话联系\n-减少会议", responsible_person="@张三",
                lead_unit=bureau)
    data = export(inspection)
    _wb, ws, columns = open_sheet(data)
    r = row_of(ws, columns, "=SUM(1,2)")

    title = ws.cell(r, columns["整改任务"])
    assert (title.value, title.data_type, title.quotePrefix) == ("=SUM(1,2)", "s", True)
    assert ws.cell(r, columns["整改措施"]).quotePrefix
    assert ws.cell(r, columns["责任人"]).quotePrefix
    assert not ws.cell(r, columns["责任领导"]).quotePrefix

    plan = ledger_preview(inspection=inspection, actor=chief, data=data)
    assert plan.counts["unchanged"] == 2
    assert not plan.rows
    assert not plan.errors


def test_export_print_setup_and_hidden_key(ledger):
    wb = load_workbook(io.BytesIO(export(ledger)))
    ws = wb.active

    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == "$1:$2"
    assert ws.freeze_panes == "A3"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    meta = wb[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    assert meta["A2"].value == "task_id,version,digest;…"
    entries = ";".join(row[0] for row in meta.iter_rows(min_row=3, values_only=True)).split(";")
    assert {int(e.split(",")[0]) for e in entries} == set(
        Task.objects.values_list("id", flat=True)
    )
    assert {e.split(",")[1] for e in entries} == {"1"}


def test_the_blank_template_has_the_column_rules_in_a_second_sheet():
    wb = load_workbook(io.BytesIO(ledger_template()))

    assert wb.sheetnames == ["整改台账", "填写说明"]
    assert [c.value for c in wb["整改台账"][2]][:3] == ["序号", "方面", "反馈问题*"]
    assert wb["整改台账"].page_setup.orientation == "landscape"
    guide = {row[0]: row for row in wb["填写说明"].iter_rows(min_row=2, values_only=True)}
    assert guide["反馈问题"][1] == "必填"
    assert guide["配合单位"][1] == "选填"
    assert "长期坚持" in guide["完成时限"][3]
    assert "立行立改" in guide["完成时限"][3]
    assert guide["完成情况"][3] == "未启动、整改中、已提交、已完成、基本完成、长期坚持"
    assert wb["填写说明"]["A1"].value == "列名"


# --- Commands ----------------------------------------------------------------------------------


def test_import_command_dry_run_prints_the_preview_and_writes_nothing(
    tmp_path, ledger, chief
):
    path = tmp_path / "台账.xlsx"
    call_command("export_ledger", str(path), "--inspection", str(ledger.pk),
                 stdout=io.StringIO())
    path.write_bytes(edit(path.read_bytes(), {"任务2": {"责任领导": "赵局长"}}))

    out = io.StringIO()
    call_command("import_ledger", str(path), "--inspection", str(ledger.pk), "--user", "chief",
                 "--dry-run", stdout=out)

    assert "预览：新增0行，修改1行，未变3行，冲突0行" in out.getvalue()
    assert "第4行 修改 任务2：责任领导 “王副局长” → “赵局长”" in out.getvalue()
    assert task("任务2").responsible_leader == "王副局长"

    out = io.StringIO()
    call_command("import_ledger", str(path), "--inspection", str(ledger.pk), "--user", "chief",
                 stdout=out)
    assert "修改整改任务1项，未变3项" in out.getvalue()
    assert task("任务2").responsible_leader == "赵局长"


# --- Queries -----------------------------------------------------------------------------------


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_import_of_unchanged_rows_costs_the_same_queries_at_any_size(bureau, county, chief):
    small, large = make_ledger(3, [bureau, county]), make_ledger(40, [bureau, county])
    for inspection in (small, large):
        for t in Task.objects.filter(inspection=inspection)[:2]:
            ProgressReportFactory(task=t)
    small_data, large_data = export(small), export(large)
    ledger_preview(inspection=small, actor=chief, data=small_data)  # the actor's unit, cached

    # preview: inspection visible? (supervisor: none), highest problem number, unit tree,
    # keyed tasks' values, their supporting units (no problems: no new rows; no instances:
    # no changed rows)
    preview_small = _queries(lambda: ledger_preview(inspection=small, actor=chief,
                                                    data=small_data))
    preview_large = _queries(lambda: ledger_preview(inspection=large, actor=chief,
                                                    data=large_data))
    apply_small = _queries(lambda: ledger_import(inspection=small, actor=chief, data=small_data))
    apply_large = _queries(lambda: ledger_import(inspection=large, actor=chief, data=large_data))

    assert preview_small == preview_large <= 8
    assert apply_small == apply_large <= 12


def test_changed_rows_cost_queries_only_for_themselves(bureau, county, chief):
    small, large = make_ledger(3, [bureau, county]), make_ledger(40, [bureau, county])
    changes = {"任务1": {"责任人": "甲"}}
    small_data, large_data = edit(export(small), changes), edit(export(large), changes)
    ledger_preview(inspection=small, actor=chief, data=small_data)  # the actor's unit, cached

    # "任务1" exists in both inspections; each file changes one row.
    assert _queries(lambda: ledger_import(inspection=small, actor=chief, data=small_data)) == (
        _queries(lambda: ledger_import(inspection=large, actor=chief, data=large_data))
    )


def test_export_queries_do_not_grow(bureau, county):
    small, large = make_ledger(3, [bureau, county]), make_ledger(40, [bureau, county])
    assert _queries(lambda: export(small)) == _queries(lambda: export(large)) == 3


def test_a_service_refusing_one_row_while_applying_rolls_back_the_rows_before_it(ledger, chief):
    # 任务1's edit is applied first; 任务2's deadline cannot be removed (task_update refuses
    # it while applying): nothing of the file stays.
    data = edit(export(ledger), {"任务1": {"责任人": "甲"}, "任务2": {"完成时限": "长期坚持"}})

    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=ledger, actor=chief, data=data)

    assert info.value.errors == ["第4行：完成时限一经确定不能取消，可修改为新的日期"]
    assert task("任务1").responsible_person == "李科长"
    assert task("任务1").version == 1
    assert not TaskEvent.objects.filter(action=TaskAction.EDIT).exists()


def test_the_hidden_versions_of_more_rows_than_fit_one_cell_read_back():
    from tracker.ledger_excel.reading import read_ledger
    from tracker.ledger_excel.writing import ExportRow, write_ledger

    rows = [
        ExportRow(problem_key=i, number=i + 1, aspect="", problem=f"问题{i}", title=f"任务{i}",
                  measures="措施", lead_unit="市教育局", deadline=dt.date(2026, 6, 30),
                  status="整改中", key=1000 + i, version=i % 3 + 1, digest=f"d{i}")
        for i in range(901)
    ]
    data = write_ledger(rows, title="台账", exported_at="2026-05-01T09:00:00+08:00")

    meta = read_ledger(data, max_rows=1000).meta

    assert meta.exported_at == "2026-05-01T09:00:00+08:00"
    assert len(meta.tasks) == 901
    assert (meta.tasks[1900].version, meta.tasks[1900].digest) == (1, "d900")


def test_text_the_sheet_xml_must_escape_reads_back_unchanged(bureau, chief):
    # The export writes its rows as sheet XML text: markup characters, a carriage return,
    # leading and trailing spaces and control characters pasted from Word must come back as
    # the reader gives them (nothing lost but the control characters, as before).
    inspection = make_ledger(1, [bureau])
    TaskFactory(problem=Problem.objects.get(inspection=inspection), title="A&B <c> \"d\"",
                measures="  第一行\r\n第二行 &amp; <b>\x07", responsible_person=" 张三 ",
                lead_unit=bureau)
    data = export(inspection)
    _wb, ws, columns = open_sheet(data)
    r = row_of(ws, columns, "A&B <c> \"d\"")

    assert ws.cell(r, columns["整改措施"]).value == "  第一行\r\n第二行 &amp; <b>"
    assert ws.cell(r, columns["责任人"]).value == " 张三 "
    plan = ledger_preview(inspection=inspection, actor=chief, data=data)
    assert plan.counts == {"new": 0, "changed": 0, "unchanged": 2, "conflict": 0, "errors": 0}


def _as_new_rows(data: bytes) -> bytes:
    """The ledger with its 系统编号 blank: a copy whose every row is a new task."""
    wb, ws, columns = open_sheet(data)
    for r in range(3, ws.max_row + 1):
        ws.cell(r, columns["系统编号（请勿修改）"]).value = None
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_first_import_costs_the_same_queries_at_any_size(bureau, county, chief, alice):
    """Every row new (an inspection's first ledger): the problems, tasks, history, progress
    and notices are written at once, whatever the number of rows."""
    sources = {n: make_ledger(n, [bureau, county]) for n in (4, 24)}
    for inspection in sources.values():
        for t in Task.objects.filter(inspection=inspection)[:2]:
            ProgressReportFactory(task=t)
    files = {n: _as_new_rows(export(inspection)) for n, inspection in sources.items()}
    targets = {n: make_ledger(0, [bureau]) for n in files}
    ledger_preview(inspection=targets[4], actor=chief, data=files[4])  # the actor's unit, cached

    cost = {n: _queries(lambda n=n: ledger_import(inspection=targets[n], actor=chief,
                                                   data=files[n]))
            for n in files}

    assert cost[4] == cost[24]
    assert Task.objects.filter(inspection=targets[24]).count() == 24
    # Alice, the bureau's officer, hears of her unit's twelve new tasks in one message.
    assert alice.notifications.count() == 2  # one per import
    assert len(alice.notifications.order_by("-pk").first().items) == 12
