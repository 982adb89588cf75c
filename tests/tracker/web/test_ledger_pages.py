"""整改台账 pages: import (supervisors, into an inspection they see; every row error listed,
nothing imported) and export (everyone, their own scope only, a real .xlsx)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tests.tracker.test_ledger_excel import xlsx
from tracker.models import Problem, Task, TaskEvent, TaskStatus

pytestmark = pytest.mark.django_db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(data: bytes, name: str = "台账.xlsx"):
    return SimpleUploadedFile(name, data, content_type=XLSX_TYPE)


def good_file() -> bytes:
    return xlsx([
        [1, "课后服务收费不规范。", "全面清理课后服务收费项目。", "市教育局", "王副局长",
         "2026-06-30", "已完成清理。", "已完成"],
        [None, None, "建立收费公示制度。", "市教育局", None, "2026-09-30", None, "整改中"],
        [2, "村级财务公开不及时。", "推行村级财务每月公开。", "湖滨街道", None, "2026-12-31",
         None, None],
    ], merges=("A3:A4", "B3:B4"))


def bad_file() -> bytes:
    return xlsx([
        [1, "问题甲", "措施一", "市教育厅", None, "2026-06-30", None, None],
        [2, "问题乙", "措施二", "市教育局", None, "2026-13-01", None, None],
        [3, "问题丙", "措施三", "市教育局", None, "2026-06-30", None, "差不多了"],
    ])


def assert_nothing_imported():
    assert Problem.objects.count() == 0
    assert Task.objects.count() == 0
    assert TaskEvent.objects.count() == 0


@pytest.fixture
def target(city):
    """A fresh inspection aimed at the city: the top supervisor sees it, sam does not."""
    return InspectionFactory(title="市委第二巡察组巡察反馈意见整改", target_unit=city)


def test_ledger_page_shows_export_import_and_template_to_everyone_in_their_scope(
    alice_client, chief_client, target
):
    # Officers import too (their rows' progress and status, as their role allows), but only
    # into inspections they see: the city's fresh inspection is not offered to them.
    officer = alice_client.get("/ledger/")
    assert officer.status_code == 200
    assert b'id="ledger-export-form"' in officer.content
    assert b'id="ledger-import-form"' in officer.content
    assert b'href="/ledger/template/"' in officer.content
    assert target.title not in officer.content.decode()

    supervisor = chief_client.get("/ledger/")
    assert supervisor.status_code == 200
    assert b'id="ledger-import-form"' in supervisor.content
    assert target.title in supervisor.content.decode()


def test_good_ledger_is_imported_and_the_counts_are_shown(
    chief_client, target, bureau, town
):
    preview = chief_client.post(
        "/ledger/import/", {"inspection": target.pk, "file": upload(good_file())}, follow=True
    )

    # Step one: the preview, nothing written yet.
    assert preview.status_code == 200
    job_url = preview.redirect_chain[-1][0]
    assert "预览：新增<strong>3</strong>行，修改<strong>0</strong>行" in preview.content.decode()
    assert_nothing_imported()

    # Step two: confirm.
    response = chief_client.post(f"{job_url}confirm/", follow=True)

    assert response.status_code == 200
    assert (f"{target.title}：导入成功：新建反馈问题2个、整改任务3项（其中填报整改进展1条）。"
            in response.content.decode())
    assert Task.objects.filter(inspection=target).count() == 3
    assert response.redirect_chain[-1][0] == job_url


def test_a_rejected_ledger_lists_every_row_error_exactly_and_imports_nothing(
    chief_client, target, bureau
):
    response = chief_client.post(
        "/ledger/import/", {"inspection": target.pk, "file": upload(bad_file())}
    )

    assert response.status_code == 400
    assert response.context["rejected"].errors == [
        "第3行：责任单位“市教育厅”不存在",
        "第4行：完成时限“2026-13-01”不是有效日期",
        "第5行：完成情况“差不多了”无法识别，可填写：未启动、整改中、已提交、已完成、基本完成、长期坚持",
    ]
    page = response.content.decode()
    assert "整改台账有3处错误，未导入任何内容" in page
    for error in response.context["rejected"].errors:
        assert f"<li>{error}</li>" in page
    assert_nothing_imported()


def test_a_file_that_is_not_a_workbook_is_refused_in_chinese(chief_client, target):
    response = chief_client.post(
        "/ledger/import/", {"inspection": target.pk, "file": upload(b"not excel", "台账.xls")}
    )

    assert response.status_code == 400
    assert "未导入任何内容" in response.content.decode()
    assert len(response.context["rejected"].errors) == 1
    assert_nothing_imported()


def test_officer_cannot_import_into_an_inspection_they_do_not_see(alice_client, target, bureau):
    response = alice_client.post(
        "/ledger/import/", {"inspection": target.pk, "file": upload(good_file())}
    )

    assert response.status_code == 400
    assert "该巡视巡察不存在或不在您的查看范围内" in response.content.decode()
    assert_nothing_imported()


def test_supervisor_cannot_import_into_an_inspection_out_of_their_scope(
    sam_client, target, town
):
    """sam supervises the county; the inspection is aimed at the city and has no task of
    theirs, so it is neither offered nor accepted."""
    page = sam_client.get("/ledger/")
    assert target.title not in page.content.decode()

    response = sam_client.post(
        "/ledger/import/", {"inspection": target.pk, "file": upload(good_file())}
    )

    assert response.status_code == 400
    assert "该巡视巡察不存在或不在您的查看范围内" in response.content.decode()
    assert_nothing_imported()


def test_supervisor_cannot_import_rows_for_units_outside_their_scope(sam_client, county,
                                                                     town, bureau):
    mine = InspectionFactory(title="区委巡察反馈意见整改", target_unit=county)
    data = xlsx([[1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None]])

    response = sam_client.post("/ledger/import/", {"inspection": mine.pk, "file": upload(data)})

    assert response.status_code == 400
    assert response.context["rejected"].errors == ["第3行：您无权为“市教育局”创建整改任务"]
    assert_nothing_imported()


# --- Export -----------------------------------------------------------------------------------


def exported_titles(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header_row = next(
        i for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        if "整改措施" in row
    )
    header = [c.value for c in sheet[header_row]]
    column = header.index("整改措施")
    return [
        row[column] for row in sheet.iter_rows(min_row=header_row + 1, values_only=True)
        if row[column]
    ]


@pytest.fixture
def ledger_tasks(bureau, town, today):
    inspection = InspectionFactory(title="市委第一巡察组反馈意见整改")
    problem = ProblemFactory(inspection=inspection, number=1)
    other = InspectionFactory(title="省委第三巡视组反馈意见整改")
    return {
        "inspection": inspection,
        "other": other,
        "bureau_open": TaskFactory(problem=problem, lead_unit=bureau, measures="清理收费项目",
                                   status=TaskStatus.IN_PROGRESS,
                                   deadline=today - dt.timedelta(days=3)),
        "bureau_done": TaskFactory(problem=problem, lead_unit=bureau, measures="公示收费标准",
                                   status=TaskStatus.COMPLETED,
                                   deadline=today - dt.timedelta(days=3)),
        "town": TaskFactory(problem=problem, lead_unit=town, measures="推行财务公开",
                            status=TaskStatus.IN_PROGRESS),
        "elsewhere": TaskFactory(problem=ProblemFactory(inspection=other), lead_unit=bureau,
                                 measures="整改另一巡视问题", status=TaskStatus.NOT_STARTED),
    }


def test_officer_exports_only_their_own_scoped_tasks(alice_client, ledger_tasks):
    response = alice_client.get(f"/ledger/export/?inspection={ledger_tasks['inspection'].pk}")

    assert exported_titles(response) == ["清理收费项目", "公示收费标准"]


def test_export_follows_the_status_filter(alice_client, ledger_tasks):
    response = alice_client.get("/ledger/export/?status=overdue")

    assert exported_titles(response) == ["清理收费项目"]


def test_supervisor_exports_their_subtree_and_can_narrow_to_a_unit(
    chief_client, sam_client, ledger_tasks, town, county
):
    everything = chief_client.get("/ledger/export/")
    assert sorted(exported_titles(everything)) == sorted(
        ["清理收费项目", "公示收费标准", "推行财务公开", "整改另一巡视问题"]
    )
    assert exported_titles(sam_client.get("/ledger/export/")) == ["推行财务公开"]
    narrowed = chief_client.get(f"/ledger/export/?unit={town.pk}")
    assert exported_titles(narrowed) == ["推行财务公开"]


def test_export_refuses_filters_outside_the_readers_scope(alice_client, ledger_tasks, town):
    assert alice_client.get(f"/ledger/export/?unit={town.pk}").status_code == 404
    hidden = InspectionFactory(title="看不到的巡察")
    response = alice_client.get(f"/ledger/export/?inspection={hidden.pk}")
    assert response.status_code == 400
    assert "筛选条件有误" in response.content.decode()


def test_task_list_links_to_the_export_of_its_filter(alice_client, ledger_tasks):
    inspection = ledger_tasks["inspection"]
    page = alice_client.get(f"/tasks/?inspection={inspection.pk}&status=overdue").content
    assert (f'href="/ledger/export/?inspection={inspection.pk}&amp;status=overdue"'
            .encode() in page)
