"""Issue #11: a measure confirmed as a task gets a short name (its first sentence or clause, at
most 60 characters) with the whole text as its measures; a report without a title line is named
by its file. The task-name rule is one function (tracker.text.derive_title), shared with the
ledger reader."""

import datetime as dt

import pytest

from reports.parsing import report_title
from reports.services import item_confirm_as_task, report_import
from tests.reports.factories import ExtractedItemFactory, SourceReportFactory
from tests.tracker.factories import InspectionFactory, ProblemFactory
from tracker.ledger_excel import values as ledger_values
from tracker.text import TITLE_MAX, derive_title

LONG_SENTENCE = ("围绕巡察反馈的基层监督力量薄弱问题，"
                 "在全区各镇街全面推行村务监督委员会规范化建设，逐村配齐配强监督人员并开展全覆盖培训，建立健全监督工作台账和定期报告制度")


@pytest.mark.parametrize(("measures", "title"), [
    ("健全基层监督网络，配齐村务监督委员会。每季度开展一次专项检查。",
     "健全基层监督网络，配齐村务监督委员会"),
    ("一是加强组织领导；二是压实责任。", "加强组织领导"),
    ("（3）开展“回头看”\n对已完成整改事项逐项复核。", "开展“回头看”"),
    ("\u3000\u3000建立长效机制！", "建立长效机制"),
    (LONG_SENTENCE + "。", "围绕巡察反馈的基层监督力量薄弱问题"),
])
def test_title_is_the_first_sentence_or_clause(measures, title):
    assert derive_title(measures) == title


def test_a_long_text_without_a_usable_clause_is_cut_to_the_limit():
    text = "全面" * 50 + "。"
    title = derive_title(text)
    assert len(title) == TITLE_MAX
    assert title.endswith("…")
    # A first clause too short to name anything is not used either.
    assert derive_title("为此，" + "全面" * 50) == ("为此，" + "全面" * 50)[: TITLE_MAX - 1] + "…"


def test_the_ledger_reader_uses_the_same_rule():
    assert ledger_values.derive_title is derive_title


@pytest.mark.parametrize(("first_line", "filename", "title"), [
    ("江屿市纪委监委2024年上半年工作情况汇报", "汇报.txt",
     "江屿市纪委监委2024年上半年工作情况汇报"),
    ("根据省委统一部署，省委第三巡视组对我市开展了常规巡视。我市高度重视。",
     "东湖区整改进展.docx", "东湖区整改进展"),
    ("市委办公室：", "uploads/青河县整改情况.报告.pdf", "青河县整改情况.报告"),
    ("根据省委统一部署，", "C:\\报告\\临江镇.txt", "临江镇"),
    (None, "无标题", "无标题"),
    ("很" * 81, "长段落.txt", "长段落"),
])
def test_report_title_is_the_title_line_or_the_file_name(first_line, filename, title):
    assert report_title(first_line, filename) == title


@pytest.mark.django_db
def test_a_report_without_a_title_line_is_named_by_its_file(chief, private_media):
    text = ("根据市委统一部署，2024年3月至5月，市委第二巡察组对我区进行了常规巡察，"
            "反馈问题12个，已完成整改8个。\n二、下步措施\n一是持续整改。\n")
    outcome = report_import(data=text.encode(), filename="东湖区整改进展情况.txt", actor=chief)
    assert outcome.report.title == "东湖区整改进展情况"


@pytest.mark.django_db
def test_a_report_with_a_title_line_keeps_it(chief, private_media):
    text = "东湖区关于巡察整改进展情况的报告\n反馈问题12个，已完成整改8个。\n"
    outcome = report_import(data=text.encode(), filename="附件1.txt", actor=chief)
    assert outcome.report.title == "东湖区关于巡察整改进展情况的报告"


@pytest.mark.django_db
def test_a_measure_confirmed_without_a_title_gets_a_short_one(sam, county, town):
    inspection = InspectionFactory(target_unit=county)
    report = SourceReportFactory(inspection=inspection)
    measure = LONG_SENTENCE + "。每半年开展一次“回头看”，确保整改成效。"
    item = ExtractedItemFactory(report=report, kind="measure", text=measure)
    task = item_confirm_as_task(item=item, actor=sam, problem=ProblemFactory(inspection=inspection),
                                lead_unit=town, deadline=dt.date(2026, 10, 31))
    assert task.title == "围绕巡察反馈的基层监督力量薄弱问题"
    assert task.measures == measure


@pytest.mark.django_db
def test_the_api_confirm_names_the_task_by_the_same_rule(client_for, sam, county, town):
    inspection = InspectionFactory(target_unit=county)
    item = ExtractedItemFactory(report=SourceReportFactory(inspection=inspection),
                                kind="measure", text="健全基层监督网络。配齐村务监督委员会。")
    response = client_for(sam).post(
        f"/api/v1/reports/items/{item.pk}/confirm-as-task/",
        {"problem": ProblemFactory(inspection=inspection).pk, "lead_unit": town.pk,
         "deadline": "2026-10-31"}, format="json",
    )
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert (item.task.title, item.task.measures) == ("健全基层监督网络", item.text)

