"""The ledger's columns: canonical names, the header variants people write, export order."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header written on export and named in messages
    aliases: tuple[str, ...]
    required: bool = False
    width: int = 12  # export column width, in characters


COLUMNS: tuple[Column, ...] = (
    Column("number", "序号", ("序号", "编号", "问题序号", "问题编号"), width=6),
    Column("aspect", "方面", ("方面", "问题方面", "所属方面", "问题类别", "类别"), width=16),
    Column(
        "problem", "反馈问题",
        ("反馈问题", "问题", "存在问题", "问题描述", "具体问题", "反馈意见", "巡视反馈问题",
         "巡察反馈问题", "问题清单", "主要问题"),
        required=True, width=40,
    ),
    Column("title", "整改任务", ("整改任务", "任务名称", "整改事项", "任务"), width=24),
    Column(
        "measures", "整改措施",
        ("整改措施", "具体措施", "措施", "整改举措", "具体整改措施", "整改措施及目标"),
        required=True, width=48,
    ),
    Column(
        "lead_unit", "责任单位",
        ("责任单位", "牵头单位", "牵头", "责任部门", "牵头部门", "牵头责任单位", "责任主体",
         "牵头单位及配合单位", "责任单位及配合单位"),
        required=True, width=18,
    ),
    Column(
        "supporting_units", "配合单位",
        ("配合单位", "配合", "配合部门", "协同单位", "协助单位", "协办单位"), width=18,
    ),
    Column("leader", "责任领导", ("责任领导", "分管领导", "牵头领导", "领导"), width=10),
    Column("person", "责任人", ("责任人", "具体责任人", "经办人", "联系人"), width=10),
    Column(
        "deadline", "完成时限",
        ("完成时限", "整改时限", "完成时间", "时限", "整改期限", "完成期限", "时限要求"),
        required=True, width=14,
    ),
    Column(
        "progress", "整改进展",
        ("整改进展", "进展情况", "整改进展情况", "工作进展", "目前进展", "进展"), width=36,
    ),
    Column(
        "status", "完成情况",
        ("完成情况", "整改状态", "状态", "整改完成情况", "完成状态", "是否完成"), width=14,
    ),
    # 重点任务 and priority (docs/priority.md): a supervisor's to set; absent from an older
    # file, they leave the tasks as they are.
    Column("key_task", "重点任务", ("重点任务", "是否重点任务", "是否重点", "重点"), width=8),
    Column("priority", "优先级", ("优先级", "优先等级", "紧急程度"), width=8),
)
# The task's id, written by the export in a hidden column: the stable key an import matches
# rows by. Not one of COLUMNS (people never fill it in), but its header is recognised.
KEY_COLUMN = Column("key", "系统编号（请勿修改）", ("系统编号", "系统编号（请勿修改）"), width=10)
BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = tuple(c for c in COLUMNS if c.required)

_ALIASES: dict[str, str] = {
    alias: c.key for c in (*COLUMNS, KEY_COLUMN) for alias in c.aliases
}
# Longest first, so that "整改措施及目标" is tried before "整改措施" and "措施".
_PREFIXES = sorted(_ALIASES, key=len, reverse=True)
_NOISE = re.compile(r"[\s*※★]+")
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def normalise_header(text: str) -> str:
    return _NOISE.sub("", text)


def column_key(header: object) -> str | None:
    """The column a header cell names, or None. Tolerates spaces, line breaks, asterisks and
    a bracketed note ("完成时限（年月日）", "责任单位（牵头）")."""
    if not isinstance(header, str):
        return None
    text = normalise_header(header)
    if not text:
        return None
    if text in _ALIASES:
        return _ALIASES[text]
    bare = _BRACKETED.sub("", text)
    if bare in _ALIASES:
        return _ALIASES[bare]
    # "完成时限要求" → 完成时限: aliases of three characters or more, only as a prefix.
    for alias in _PREFIXES:
        if len(alias) >= 3 and bare.startswith(alias):
            return _ALIASES[alias]
    return None
