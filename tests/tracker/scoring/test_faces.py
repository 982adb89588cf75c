"""The faces of 考评: the API and the ranking page (scoped, officers refused, bad periods in
Chinese), the 情况通报 .docx (opens with python-docx, lists the best and lagging units with
their figures, audited), the admin (administrators only, audited), the services' validation."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from docx import Document
from rest_framework.test import APIClient

from tests.tracker.factories import ScoringSchemeFactory
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import AuditAction, AuditEntry, ScoringScheme
from tracker.services.scoring import scoring_scheme_delete, scoring_scheme_save

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def page(user):
    client = Client()
    client.force_login(user)
    return client


# --- API -------------------------------------------------------------------------------------


def test_api_lists_scores_for_the_period(ledger, chief):
    body = api(chief).get("/api/v1/scores/?period=2026-05").json()
    assert body["period"] == {"key": "2026-05", "label": "2026年5月", "start": "2026-05-01",
                              "end": "2026-05-31"}
    assert body["final"] is True
    assert body["count"] == 2
    first, second = body["results"]
    assert (first["unit"]["name"], first["score"], first["rank"]) == ("湖滨街道", "89.00", 1)
    assert (second["unit"]["name"], second["score"], second["on_time_rate"]) == (
        "市教育局", "61.33", "0.3333")
    assert second["deductions"]["on_time"] == "26.67"
    assert second["overdue_days"] == 4


def test_api_custom_period_and_scope(ledger, sam):
    body = api(sam).get("/api/v1/scores/?start=2026-05-01&end=2026-05-31").json()
    assert [r["unit"]["name"] for r in body["results"]] == ["湖滨街道"]


@pytest.mark.parametrize(("query", "field"), [
    ("period=2026-13", "period"), ("period=下个月", "period"), ("start=2026-05-01", "end"),
    ("start=2026-06-01&end=2026-05-01", "end"), ("period=2026-05&top=99", "top"),
    ("start=2024-01-01&end=2025-06-30", "end"),
])
def test_api_bad_period_is_refused_in_chinese(chief, query, field):
    response = api(chief).get(f"/api/v1/scores/?{query}")
    assert response.status_code == 400
    text = response.content.decode()
    assert field in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_api_refuses_officers(ledger, bob):
    assert api(bob).get("/api/v1/scores/").status_code == 403


def test_api_query_count_does_not_grow_with_units(ledger, chief, city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.tracker.scoring.test_scores import _build

    client = api(chief)
    client.get("/api/v1/scores/?period=2026-05")  # the working-day calendar is loaded once
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/scores/?period=2026-05")
    _build(6, 3, city, chief)
    with CaptureQueriesContext(connection) as large:
        body = client.get("/api/v1/scores/?period=2026-05").json()
    assert body["count"] == 8
    # session, user, unit, then the six of tracker.figures.scoring
    assert len(large) == len(small) <= 10


# --- Pages -----------------------------------------------------------------------------------


def test_ranking_page_shows_ranks_and_marks(ledger, chief):
    response = page(chief).get("/scores/?kind=month&year=2026&month=5&top=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert "考评排名 · 2026年5月" in html
    assert html.index("湖滨街道") < html.index("市教育局")
    assert 'data-mark="best"' in html
    assert 'data-mark="lagging"' in html
    assert "61.33" in html
    assert "89.00" in html
    assert "期间已结束" in html


def test_ranking_page_default_is_last_month(chief):
    response = page(chief).get("/scores/")
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    assert f"{last.year}年{last.month}月" in response.content.decode()


def test_ranking_page_bad_period(chief):
    response = page(chief).get("/scores/?kind=custom&year=2026")
    assert response.status_code == 400
    assert "请填写开始日期和结束日期" in response.content.decode()
    future = page(chief).get(f"/scores/?kind=year&year={timezone.localdate().year + 1}")
    assert future.status_code == 400
    assert "尚未开始" in future.content.decode()


def test_ranking_page_paginates_many_units(chief, city):
    from tests.tracker.scoring.conftest import create
    from tracker.models import Unit

    for n in range(55):
        unit = Unit.objects.create(name=f"分页单位{n:02d}", kind="city_department",
                                   parent=city, path=f"{city.path}{9000 + n}/", depth=1)
        create(f"任务{n}", unit, dt.date(2026, 6, 30), chief)
    html = page(chief).get("/scores/?kind=month&year=2026&month=5").content.decode()
    assert html.count('class="score-row') == 50
    assert "共2页" in html
    html2 = page(chief).get("/scores/?kind=month&year=2026&month=5&page=2").content.decode()
    assert html2.count('class="score-row') == 5


def test_officers_have_no_ranking_page_nor_link(bob, chief):
    assert page(bob).get("/scores/").status_code == 403
    assert "考评排名" not in page(bob).get("/tasks/").content.decode()
    assert "考评排名" in page(chief).get("/tasks/").content.decode()


# --- The circular (.docx) --------------------------------------------------------------------


def _docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_circular_docx_lists_best_and_lagging_with_figures(ledger, chief):
    response = page(chief).get("/scores/circular/?kind=month&year=2026&month=5&top=1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Cache-Control"] == "private, no-store"
    text = _docx_text(response.content)
    assert "关于2026年5月整改工作考评情况的通报" in text
    best = text.index("一、表现较好的单位")
    lagging = text.index("二、进度滞后的单位")
    assert best < text.index("湖滨街道得分89.00分") < lagging
    assert lagging < text.index("市教育局得分61.33分")
    assert "按期销号率33.3%" in text
    assert "累计逾期4个工作日" in text
    assert "本期参加考评单位2个" in text
    entry = AuditEntry.objects.get(action=AuditAction.SCORE_EXPORT)
    assert entry.actor == chief
    assert "2026年5月" in entry.target_label


def test_circular_docx_from_the_api_is_scoped(ledger, sam):
    response = api(sam).get("/api/v1/scores/docx/?period=2026-05")
    text = _docx_text(response.content)
    assert "湖滨街道" in text
    assert "市教育局" not in text
    assert AuditEntry.objects.filter(action=AuditAction.SCORE_EXPORT, actor=sam).count() == 1


def test_circular_docx_survives_control_characters(chief, city):
    from tests.tracker.scoring.conftest import create
    from tracker.models import Unit

    unit = Unit.objects.create(name="控制\x07字符局", kind="city_department", parent=city,
                               path=f"{city.path}8888/", depth=1)
    create("任务", unit, dt.date(2026, 5, 20), chief)
    response = page(chief).get("/scores/circular/?kind=month&year=2026&month=5")
    assert "控制字符局" in _docx_text(response.content)


def test_officers_cannot_download_the_circular(bob):
    assert page(bob).get("/scores/circular/").status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.SCORE_EXPORT).exists()


# --- Schemes: services and admin ---------------------------------------------------------------


def test_scheme_save_validates_in_chinese(root_admin):
    now = timezone.now()
    with pytest.raises(InvalidInput, match="不能为负数") as refused:
        scoring_scheme_save(actor=root_admin, now=now, name="方案", effective_from=dt.date(
            2026, 7, 1), base_score=Decimal(100), on_time_weight=Decimal(-1),
            overdue_day_weight=Decimal(1), send_back_weight=Decimal(1),
            notice_weight=Decimal(1), notice_late_weight=Decimal(1))
    assert "on_time_weight" in refused.value.fields
    with pytest.raises(InvalidInput, match="基础分须大于0"):
        scoring_scheme_save(actor=root_admin, now=now, name="方案",
                            effective_from=dt.date(2026, 7, 1), base_score=Decimal(0),
                            on_time_weight=Decimal(1), overdue_day_weight=Decimal(1),
                            send_back_weight=Decimal(1), notice_weight=Decimal(1),
                            notice_late_weight=Decimal(1))
    assert not ScoringScheme.objects.exists()


def test_scheme_same_day_twice_is_refused(root_admin):
    ScoringSchemeFactory(effective_from=dt.date(2026, 7, 1))
    with pytest.raises(InvalidInput, match="已有生效的考评方案"):
        scoring_scheme_save(actor=root_admin, now=timezone.now(), name="又一个",
                            effective_from=dt.date(2026, 7, 1), base_score=Decimal(100),
                            on_time_weight=Decimal(40), overdue_day_weight=Decimal(1),
                            send_back_weight=Decimal(1), notice_weight=Decimal(1),
                            notice_late_weight=Decimal(1))


def test_scheme_changes_are_audited_and_administrators_only(root_admin, chief):
    now = timezone.now()
    values = {"name": "2026年下半年", "effective_from": dt.date(2026, 7, 1),
              "base_score": Decimal(100), "on_time_weight": Decimal(40),
              "overdue_day_weight": Decimal("0.5"), "send_back_weight": Decimal(2),
              "notice_weight": Decimal(3), "notice_late_weight": Decimal(5)}
    with pytest.raises(ActionForbidden):
        scoring_scheme_save(actor=chief, now=now, **values)
    scheme = scoring_scheme_save(actor=root_admin, now=now, **values)
    scoring_scheme_save(actor=root_admin, now=now, scheme=scheme, notice_weight=Decimal(4))
    update = AuditEntry.objects.get(action=AuditAction.SCORING_SCHEME_UPDATE)
    assert update.changes == {"notice_weight": ["3.00", "4"]} or update.changes[
        "notice_weight"][1] in ("4", "4.00")
    with pytest.raises(ActionForbidden):
        scoring_scheme_delete(actor=chief, scheme=scheme, now=now)
    scoring_scheme_delete(actor=root_admin, scheme=scheme, now=now)
    assert AuditEntry.objects.filter(action=AuditAction.SCORING_SCHEME_CREATE).count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.SCORING_SCHEME_DELETE).count() == 1


def test_admin_is_for_administrators_only(root_admin, chief):
    scheme = ScoringSchemeFactory()
    changelist = "/admin/tracker/scoringscheme/"
    assert page(chief).get(changelist).status_code == 403
    assert page(chief).get(f"{changelist}{scheme.pk}/change/").status_code == 403
    assert "考评方案" not in page(chief).get("/admin/").content.decode()
    admin = page(root_admin)
    assert admin.get(changelist).status_code == 200
    response = admin.post(f"{changelist}add/", {
        "name": "管理后台方案", "effective_from": "2026-09-01", "base_score": "100",
        "on_time_weight": "30", "overdue_day_weight": "1", "send_back_weight": "2",
        "notice_weight": "3", "notice_late_weight": "-5", "note": "",
    })
    assert response.status_code == 200  # the form again, with the refusal
    assert "不能为负数" in response.content.decode()
    assert not ScoringScheme.objects.filter(name="管理后台方案").exists()
    response = admin.post(f"{changelist}add/", {
        "name": "管理后台方案", "effective_from": "2026-09-01", "base_score": "100",
        "on_time_weight": "30", "overdue_day_weight": "1", "send_back_weight": "2",
        "notice_weight": "3", "notice_late_weight": "5", "note": "",
    })
    assert response.status_code == 302
    saved = ScoringScheme.objects.get(name="管理后台方案")
    assert saved.created_by == root_admin
    assert AuditEntry.objects.filter(action=AuditAction.SCORING_SCHEME_CREATE,
                                     target_id=saved.pk).exists()
