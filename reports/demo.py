"""A demo progress report for the demo city: imported, its figure confirmed to the provincial
inspection, and deliberately one closure ahead of the ledger, so the reconciliation page has a
finding to show. Fictional text written for the demo."""

import datetime as dt

from reports.models import ExtractedFigure, FigureKind, ReviewState
from reports.services import figure_confirm, report_import
from tracker.models import Inspection, User

DEMO_REPORT_NAME = "江屿市省委巡视反馈意见整改进展情况汇报.txt"
DEMO_INSPECTION_TITLE = "省委第三巡视组巡视江屿市委反馈意见整改"

DEMO_REPORT = """江屿市关于省委第三巡视组反馈意见整改进展情况的汇报

省委第三巡视组反馈意见以来，江屿市委坚决扛起整改主体责任，成立整改工作领导小组，逐条制定整改措施。现将进展情况汇报如下。
一、整改工作进展
（一）压实整改责任。市委常委会先后4次专题研究整改工作，将反馈意见细化分解为9个具体问题，已完成整改4个，基本完成整改1个，长期坚持1个，未完成整改3个。
（二）强化督办问效。实行挂图作战，每月调度一次整改进展，对进度滞后的单位下发督办通知。
二、存在的问题
一是个别单位整改标准不高，满足于制定制度，跟踪落实不够。二是部分整改任务涉及多个部门，协同推进不够顺畅。
三、下步工作打算
（一）紧盯未完成任务，逐项明确完成时限，确保按期销号。
（二）健全长效机制，对已完成整改的任务开展“回头看”。
（三）严肃责任追究，对敷衍整改、虚假整改的严肃问责。
江屿市委巡视整改工作领导小组办公室
{year}年{month}月{day}日
"""


def load_demo_report(*, today: dt.date, supervisor: User) -> bool:
    """Import and confirm the demo report once; False when it was already there."""
    text = DEMO_REPORT.format(year=today.year, month=today.month, day=today.day)
    outcome = report_import(data=text.encode(), filename=DEMO_REPORT_NAME, actor=supervisor)
    if not outcome.created:
        return False
    inspection = Inspection.objects.get(title=DEMO_INSPECTION_TITLE)
    for figure in ExtractedFigure.objects.filter(
        report=outcome.report, kind=FigureKind.PROGRESS, review_state=ReviewState.PROPOSED
    ):
        figure_confirm(figure=figure, actor=supervisor, inspection=inspection)
    return True
