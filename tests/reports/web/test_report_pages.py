"""Report documents pages (upload, read, confirm or reject) and 核对发现 (reconciliation), for
supervisors; officers are refused."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import ExtractedFigure, ExtractedItem, ReviewState, SourceReport
from tests.reports.factories import ExtractedFigureFactory, SourceReportFactory
from tests.reports.jobs import run_queued_imports
from tests.tracker.factories import InspectionFactory, ProblemFactory
from tracker.models import Problem, Task
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")

# Written for these tests (not from any real report).
REPORT = """东湖区巡察整改工作情况汇报
一、工作开展情况
市委第一巡察组反馈的10个问题已完成整改6个，基本完成整改1个，未完成整改3个。
二、存在的问题
一是整改责任落实不够到位，个别单位对账销号不及时；二是长效机制建设滞后，制度执行不严。
三、下步打算
（一）压实整改责任，逐项对账销号。
（二）完善长效机制，防止问题反弹。
"""
FIGURE_QUOTE = "市委第一巡察组反馈的10个问题已完成整改6个，基本完成整改1个，未完成整改3个"


def report_file(text: str = REPORT, name: str = "东湖区整改汇报.txt", encoding="gbk"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/plain")


def upload_and_read(client, upload):
    """Upload through the page, let the worker read it, and follow the status page."""
    response = client.post("/reports/documents/upload/", {"file": upload})
    assert response.status_code == 302
    assert response["Location"].startswith("/reports/documents/imports/")
    run_queued_imports()
    return client.get(response["Location"], follow=True)


@pytest.fixture
def uploaded(chief_client):
    upload_and_read(chief_client, report_file())
    return SourceReport.objects.get()


@pytest.fixture
def aimed(city):
    return InspectionFactory(title="市委第一巡察组巡察东湖区反馈意见整改", target_unit=city)


# --- Who may use the pages --------------------------------------------------------------------


def test_officers_are_refused_every_report_page(alice_client, uploaded):
    figure = uploaded.figures.get()
    assert alice_client.get("/reports/documents/").status_code == 403
    assert alice_client.get(f"/reports/documents/{uploaded.pk}/").status_code == 403
    assert alice_client.get("/reports/findings/").status_code == 403
    upload = alice_client.post("/reports/documents/upload/", {"file": report_file("另一份")})
    assert upload.status_code == 403
    confirm = alice_client.post(f"/reports/figures/{figure.pk}/reject/")
    assert confirm.status_code == 403
    assert SourceReport.objects.count() == 1
    assert ExtractedFigure.objects.get().review_state == ReviewState.PROPOSED


def test_a_supervisor_out_of_scope_does_not_see_anothers_report(sam_client, uploaded):
    """sam (the county) did not import it and nothing of it is confirmed to an inspection of
    theirs: the list leaves it out and the page and its forms answer 404."""
    assert uploaded.original_name not in sam_client.get("/reports/documents/").content.decode()
    assert sam_client.get(f"/reports/documents/{uploaded.pk}/").status_code == 404
    figure = uploaded.figures.get()
    assert sam_client.post(f"/reports/figures/{figure.pk}/reject/").status_code == 404


# --- Upload and reading -----------------------------------------------------------------------


def test_upload_shows_the_text_with_figures_problems_and_measures_marked(chief_client):
    response = upload_and_read(chief_client, report_file())

    assert response.status_code == 200
    page = response.content.decode()
    assert "已导入“东湖区整改汇报.txt”：提取到数据1条、条目4条，请逐条确认或驳回。" in page
    report = SourceReport.objects.get()
    assert report.encoding.lower() in ("gbk", "gb2312", "gb18030")
    figure = report.figures.get()
    assert f'<mark class="hl-figure" data-anchor="figure-{figure.pk}">{FIGURE_QUOTE}</mark>' in page
    assert f"“{FIGURE_QUOTE}”" in page
    marks = re.findall(r'<mark class="hl-(problem|measure)" data-anchor="item-\d+">', page)
    assert marks == ["problem", "problem", "measure", "measure"]
    assert "存在的问题（2条）" in page
    assert "下步措施（2条）" in page
    assert page.count('class="row g-2 align-items-end mt-1 figure-confirm no-print"') == 1


def test_the_same_file_again_is_not_imported_twice(chief_client, uploaded):
    response = upload_and_read(chief_client, report_file())

    assert "与已导入的报告内容相同，未重复导入" in response.content.decode()
    assert SourceReport.objects.count() == 1
    listed = chief_client.get("/reports/documents/").content.decode()
    assert listed.count('class="report-row"') == 1


def test_while_the_worker_reads_the_page_says_so_and_refreshes(chief_client, sam_client):
    response = chief_client.post("/reports/documents/upload/", {"file": report_file()})
    status_url = response["Location"]

    waiting = chief_client.get(status_url)

    assert waiting.status_code == 200
    assert "正在读取“东湖区整改汇报.txt”…" in waiting.content.decode()
    assert waiting["Refresh"] == "2"
    assert not SourceReport.objects.exists()  # nothing read by the web process
    assert sam_client.get(status_url).status_code == 404  # the uploader's alone

    run_queued_imports()
    done = chief_client.get(status_url)
    assert done.status_code == 302
    assert done["Location"] == f"/reports/documents/{SourceReport.objects.get().pk}/"


def test_an_unreadable_file_is_refused_in_chinese_and_nothing_is_stored(chief_client):
    binary = SimpleUploadedFile("汇报.txt", b"\x00\x01\x02binary\xff\xfe\x00")

    response = upload_and_read(chief_client, binary)

    assert response.status_code == 200  # the status page, showing why
    assert ("“汇报.txt”未能导入：文件含有二进制内容，无法读取。请将文件另存为 UTF-8 或 GBK "
            "编码的文本、.docx 或 .pdf 后再上传。") in response.content.decode()
    assert SourceReport.objects.count() == 0


# --- Confirming and rejecting -----------------------------------------------------------------


def test_supervisor_confirms_figure_problem_and_measure_and_rejects_one(
    chief_client, uploaded, aimed, county, today
):
    figure = uploaded.figures.get()
    first_problem, second_problem = uploaded.items.filter(kind="problem").order_by("position")
    first_measure, second_measure = uploaded.items.filter(kind="measure").order_by("position")

    response = chief_client.post(f"/reports/figures/{figure.pk}/confirm/",
                                 {"inspection": aimed.pk}, follow=True)
    assert "已确认该条数据，将用于对账" in response.content.decode()
    figure.refresh_from_db()
    assert (figure.review_state, figure.inspection) == (ReviewState.CONFIRMED, aimed)

    chief_client.post(f"/reports/items/{first_problem.pk}/confirm/",
                      {"inspection": aimed.pk, "aspect": "落实整改主体责任方面"})
    problem = Problem.objects.get(inspection=aimed)
    assert (problem.number, problem.aspect, problem.text) == (
        1, "落实整改主体责任方面", "整改责任落实不够到位，个别单位对账销号不及时；"
    )
    chief_client.post(f"/reports/items/{second_problem.pk}/reject/")

    deadline = today + dt.timedelta(days=60)
    response = chief_client.post(f"/reports/items/{first_measure.pk}/confirm/", {
        "problem": problem.pk, "lead_unit": county.pk, "deadline": deadline.isoformat(),
        "task_type": "by_deadline",
    }, follow=True)
    assert "已确认为整改任务" in response.content.decode()
    task = Task.objects.get()
    assert (task.problem, task.lead_unit, task.deadline, task.measures) == (
        problem, county, deadline, "压实整改责任，逐项对账销号。"
    )

    states = dict(ExtractedItem.objects.values_list("pk", "review_state"))
    assert states == {
        first_problem.pk: ReviewState.CONFIRMED, second_problem.pk: ReviewState.REJECTED,
        first_measure.pk: ReviewState.CONFIRMED, second_measure.pk: ReviewState.PROPOSED,
    }
    page = chief_client.get(f"/reports/documents/{uploaded.pk}/").content.decode()
    assert f'href="/tasks/{task.pk}/"' in page
    assert page.count('class="row g-2 align-items-end measure-confirm no-print"') == 1


def test_a_measure_without_a_deadline_is_refused_with_the_services_message(
    chief_client, uploaded, aimed, county
):
    measure = uploaded.items.filter(kind="measure").first()
    problem = ProblemFactory(inspection=aimed)

    response = chief_client.post(f"/reports/items/{measure.pk}/confirm/", {
        "problem": problem.pk, "lead_unit": county.pk, "deadline": "", "task_type": "by_deadline",
    })

    assert response.status_code == 400
    assert "请填写完成时限" in response.content.decode()
    assert Task.objects.count() == 0
    measure.refresh_from_db()
    assert measure.review_state == ReviewState.PROPOSED
    # The refused form keeps what was chosen in it; the other forms stay blank.
    page = response.content.decode()
    form = page[page.index(f'action="/reports/items/{measure.pk}/confirm/"'):]
    form = form[:form.index("</form>")]
    assert f'<option value="{problem.pk}" selected>' in form
    assert f'<option value="{county.pk}" selected>' in form
    rest = page.replace(form, "")
    assert rest.count(" selected>") == rest.count('value="by_deadline" selected>')  # defaults


def test_a_figure_cannot_be_confirmed_twice(chief_client, uploaded, aimed):
    figure = uploaded.figures.get()
    chief_client.post(f"/reports/figures/{figure.pk}/reject/")

    response = chief_client.post(f"/reports/figures/{figure.pk}/confirm/",
                                 {"inspection": aimed.pk})

    assert response.status_code == 409
    assert "该条内容已确认或驳回，不能重复处理" in response.content.decode()


def test_a_county_supervisor_cannot_link_to_an_inspection_they_do_not_see(
    sam_client, sam, aimed, county
):
    own = SourceReportFactory(imported_by=sam)
    figure = ExtractedFigureFactory(report=own)

    page = sam_client.get(f"/reports/documents/{own.pk}/").content.decode()
    assert aimed.title not in page
    response = sam_client.post(f"/reports/figures/{figure.pk}/confirm/",
                               {"inspection": aimed.pk})

    assert response.status_code == 400
    assert "该巡视巡察不存在或不在您的查看范围内" in response.content.decode()
    figure.refresh_from_db()
    assert figure.review_state == ReviewState.PROPOSED


# --- 核对发现 -----------------------------------------------------------------------------------


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 5, day, 10, tzinfo=LOCAL)


@pytest.fixture
def ledger(chief, bureau):
    """10 tasks created on 5-1; by 5-5, 6 closed and 1 basically completed."""
    problem = ProblemFactory(inspection__title="市委第一巡察组反馈意见整改")
    tasks = [
        task_services.task_create(problem=problem, actor=chief, title=f"任务{i}",
                                  lead_unit=bureau, deadline=dt.date(2026, 6, 30), now=at(1))
        for i in range(10)
    ]
    for task in tasks[:6]:
        task_services.task_start(task=task, actor=chief, now=at(2))
        task_services.task_submit(task=task, actor=chief, now=at(3))
        task_services.task_close(task=task, actor=chief, now=at(5))
    task_services.task_start(task=tasks[6], actor=chief, now=at(2))
    task_services.task_mark_basically_completed(task=tasks[6], actor=chief, now=at(4))
    return problem.inspection


def reported(inspection, day, title, **numbers):
    report = SourceReportFactory(report_date=dt.date(2026, 5, day), title=title)
    return ExtractedFigureFactory(report=report, inspection=inspection,
                                  review_state=ReviewState.CONFIRMED, counting_word="个",
                                  **{"total": None, "completed": None, **numbers})


def test_findings_show_exactly_the_planted_disagreements(chief_client, ledger):
    agreeing = reported(ledger, 2, "5月2日情况汇报", total=10, completed=0)
    planted = reported(ledger, 5, "5月5日进展通报", total=10, completed=7,
                       basically_completed=1, not_completed=2)
    ExtractedFigureFactory(inspection=None, total=99, completed=1)  # never confirmed

    response = chief_client.get(f"/reports/findings/?inspection={ledger.pk}")

    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r'<mark class="hl-disagreement">(.*?)</mark>', page) == [
        "报告称已完成整改7个，台账截至2026年5月5日已销号6个",
        "报告称未完成整改2个，台账截至2026年5月5日未完成整改3个",
    ]
    rows = re.split(r'<tr class="finding-row"', page)[1:]
    assert [re.search(r'data-figure="(\d+)"', r).group(1) for r in rows] == [
        str(agreeing.pk), str(planted.pk)
    ]
    assert "一致" in rows[0]
    assert "hl-disagreement" not in rows[0]
    assert "5月5日进展通报" in rows[1]
    assert "2026年5月5日" in rows[1]
    # Reported 7 against the ledger's 6 closed, 2 against 3 not completed: marked cells.
    assert page.count('figure-differs">') == 4


def test_findings_without_a_choice_list_every_inspection_with_confirmed_figures(
    chief_client, ledger
):
    reported(ledger, 5, "5月5日进展通报", total=10, completed=6)
    InspectionFactory(title="没有报告数字的巡察")

    page = chief_client.get("/reports/findings/").content.decode()

    assert page.count('class="card mb-3 findings-section"') == 1
    assert "一致" in page


def test_findings_of_an_inspection_out_of_scope_are_not_shown(sam_client, ledger):
    reported(ledger, 5, "5月5日进展通报", total=10, completed=7)

    assert sam_client.get(f"/reports/findings/?inspection={ledger.pk}").status_code == 404
    assert "5月5日进展通报" not in sam_client.get("/reports/findings/").content.decode()


def test_the_dashboard_links_each_inspection_to_its_findings(chief_client, ledger):
    page = chief_client.get("/dashboard/").content.decode()
    assert f'href="/reports/findings/?inspection={ledger.pk}">对账</a>' in page


def test_a_low_confidence_or_non_inspection_figure_is_flagged_not_dropped(chief, chief_client):
    """What each figure carries reaches the supervisor: its category, its source (an audit
    figure is marked as such), a total the outcomes do not add up to, and a low confidence,
    flagged for checking against the text instead of being left out."""
    report = SourceReportFactory(imported_by=chief)
    ExtractedFigureFactory(report=report, source="audit", confidence="low", adds_up=False,
                           rate="90%")
    ExtractedFigureFactory(report=report, source="inspection")
    page = chief_client.get(f"/reports/documents/{report.pk}/").content.decode()
    assert page.count("figure-meta") == 2
    assert "审计整改" in page
    assert "可信度低，请核对原文" in page
    assert page.count("figure-low-confidence") == 1
    assert "各项之和与总数不符" in page
    assert "完成率90%" in page


def test_an_empty_report_file_is_named_and_said_to_be_empty(chief_client, private_media):
    """Issue #11: a 0-byte upload says it is empty and names the file (not "choose a file")."""
    response = chief_client.post("/reports/documents/upload/",
                                 {"file": SimpleUploadedFile("空白汇报.txt", b"")})
    assert response.status_code == 400
    page = response.content.decode()
    assert "“空白汇报.txt”未能导入：文件为空" in page
    assert not SourceReport.objects.exists()


def test_the_report_page_sets_the_reports_date_and_inspection(chief_client, uploaded, aimed):
    page = chief_client.get(f"/reports/documents/{uploaded.pk}/").content.decode()
    assert 'id="report-details"' in page
    response = chief_client.post(f"/reports/documents/{uploaded.pk}/details/",
                                 {"report_date": "2026-06-30", "inspection": aimed.pk},
                                 follow=True)
    assert "已保存报告日期和对应巡视巡察" in response.content.decode()
    uploaded.refresh_from_db()
    assert (uploaded.report_date, uploaded.inspection) == (dt.date(2026, 6, 30), aimed)


def test_a_bad_report_date_is_refused_and_keeps_what_was_chosen(chief_client, uploaded, aimed):
    response = chief_client.post(f"/reports/documents/{uploaded.pk}/details/",
                                 {"report_date": "2026-13-40", "inspection": aimed.pk})
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写有效的日期" in page
    form = page[page.index('id="report-details"'):]
    form = form[:form.index("</form>")]
    assert f'<option value="{aimed.pk}" selected>' in form
    uploaded.refresh_from_db()
    assert uploaded.inspection is None  # nothing saved


def test_officers_cannot_set_a_reports_details(alice_client, uploaded, aimed):
    response = alice_client.post(f"/reports/documents/{uploaded.pk}/details/",
                                 {"report_date": "2026-06-30", "inspection": aimed.pk})
    assert response.status_code == 403
    uploaded.refresh_from_db()
    assert uploaded.inspection is None
