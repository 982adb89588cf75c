"""Unit scores (考评) under /api/v1/scores/: the ranking of the units the reader reaches for a
period, and the circular (情况通报) as .docx. Supervisors (their subtree) and administrators;
officers are refused (tracker.access.may_view_scores)."""

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from tracker import access
from tracker.errors import InvalidInput
from tracker.figures import scoring
from tracker.models import AuditAction
from tracker.scoring_docx import DOCX, circular_filename, scoring_docx_response
from tracker.services.audit import audit_origin, audit_record

PARAMETERS = [
    OpenApiParameter("period", OpenApiTypes.STR, description=(
        "考评期间：月 2026-05、季度 2026-Q2、年度 2026；或用 start、end 指定起止日期"
        "（不超过366天）；都不填为上一个月")),
    OpenApiParameter("start", OpenApiTypes.DATE, description="自定义期间的开始日期"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="自定义期间的结束日期"),
    OpenApiParameter("top", OpenApiTypes.INT,
                     description="通报表现较好、进度滞后的单位各几个（1—10，默认3）"),
]


class PeriodQuerySerializer(serializers.Serializer):
    period = serializers.CharField(required=False, max_length=30)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    top = serializers.IntegerField(required=False, min_value=1, max_value=scoring.TOP_N_MAX,
                                   default=scoring.TOP_N_DEFAULT)


def board_from_query(user, params) -> scoring.Scoreboard:
    """The scoreboard a query string asks for (shared by the API and its .docx)."""
    data = PeriodQuerySerializer(data=params)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    today = timezone.localdate()
    if values.get("start") or values.get("end"):
        if not (values.get("start") and values.get("end")):
            raise InvalidInput("请同时填写开始日期和结束日期",
                               fields={"end": "开始日期和结束日期须同时填写"})
        period = scoring.custom_period(values["start"], values["end"], today=today)
    elif values.get("period"):
        period = scoring.period_from_key(values["period"], today=today)
    else:
        period = scoring.default_period(today=today)
    return scoring.unit_scores(user=user, period=period, top=values["top"])


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UnitScoreSerializer(serializers.Serializer):
    unit = UnitRefSerializer()
    rank = serializers.IntegerField(help_text="名次（同分并列）")
    score = serializers.DecimalField(max_digits=8, decimal_places=2, help_text="得分")
    mark = serializers.CharField(help_text="best 表现较好、lagging 进度滞后，或空")
    tasks = serializers.IntegerField(help_text="期末牵头任务数")
    due = serializers.IntegerField(help_text="期内到期任务数")
    on_time = serializers.IntegerField(help_text="其中按期销号数")
    on_time_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True,
                                            help_text="按期销号率（0—1），无到期任务为空")
    overdue_tasks = serializers.IntegerField(help_text="期末逾期任务数")
    overdue_days = serializers.IntegerField(help_text="期末逾期任务累计逾期工作日")
    send_backs = serializers.IntegerField(help_text="期内退回整改次数")
    notices = serializers.IntegerField(help_text="期内收到督办次数")
    notices_late = serializers.IntegerField(
        help_text="回复期限在期内而逾期回复或未回复的督办事项数")
    deductions = serializers.DictField(child=serializers.CharField(), help_text="各项扣分")


class ScoreboardSerializer(serializers.Serializer):
    period = serializers.DictField(help_text="key、label、start、end")
    as_of = serializers.DateField(help_text="数据截至日期（期末，或进行中的期间为今天）")
    final = serializers.BooleanField(help_text="期间已结束，得分不再变化")
    weights = serializers.DictField(help_text="生效的考评方案")
    count = serializers.IntegerField()
    results = UnitScoreSerializer(many=True)


def board_as_dict(board: scoring.Scoreboard) -> dict:
    p = board.period
    return {
        "period": {"key": p.key, "label": p.label, "start": p.start.isoformat(),
                   "end": p.end.isoformat()},
        "as_of": board.as_of.isoformat(),
        "final": board.final,
        "weights": scoring.weights_as_dict(board.weights),
        "count": len(board.rows),
        "results": [scoring.score_as_dict(row) for row in board.rows],
    }


class ScoreViewSet(viewsets.ViewSet):
    """考评排名：本人可见单位在某一期间的得分、各项指标和名次（督导人员为其范围内单位，管理员为全部）。"""

    # One object (the scoreboard), not a list of resources: routed by hand (urlpatterns below)
    # so that the schema describes an object.
    rules = {"ranking": access.may_view_scores, "docx": access.may_view_scores}

    @extend_schema(parameters=PARAMETERS, responses=ScoreboardSerializer)
    def ranking(self, request):
        """考评排名（按得分从高到低，同分并列）。"""
        return Response(board_as_dict(board_from_query(request.user, request.query_params)))

    @extend_schema(parameters=PARAMETERS,
                   responses={(200, DOCX): OpenApiResponse(OpenApiTypes.BINARY)})
    def docx(self, request):
        """情况通报（公文格式 .docx）：表现较好和进度滞后的单位及其指标。"""
        board = board_from_query(request.user, request.query_params)
        office = request.user.unit.name if request.user.unit else None
        audit_record(actor=request.user, action=AuditAction.SCORE_EXPORT,
                     target_label=circular_filename(board), **audit_origin(request))
        return scoring_docx_response(board=board, office=office or "整改工作领导小组办公室",
                                     today=timezone.localdate())


urlpatterns = [
    path("scores/", ScoreViewSet.as_view({"get": "ranking"}), name="score-ranking"),
    path("scores/docx/", ScoreViewSet.as_view({"get": "docx"}), name="score-docx"),
]
