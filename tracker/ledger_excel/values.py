"""Cell values: numbers, deadlines, statuses, unit lists, as people type them in ledgers.

Each parser returns the parsed value or raises CellError with the Chinese reason (without the
row prefix, which the reader adds).
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from openpyxl.utils.datetime import from_excel

from tracker.models.tasks import TaskPriority, TaskStatus, TaskType

# The task-name rule moved to tracker.text (also used by the reports app); re-exported here so
# the ledger reader's imports keep working.
from tracker.text import TITLE_MAX, derive_title  # noqa: F401


class CellError(ValueError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def clean_text(value: object) -> str:
    """A cell as text: full-width spaces and non-breaking spaces become spaces, each line is
    stripped, empty lines are dropped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\u3000", " ").replace("\xa0", " ").replace("\r\n", "\n")
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def one_line(value: object) -> str:
    return " ".join(clean_text(value).split("\n"))


# --- 序号 -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[（(]?(\d{1,6})[)）]?[.、．]?$")


def parse_number(value: object) -> int | None:
    """The problem number: 3, 3.0, "3", "3.", "3、", "（3）". Blank → None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(f"序号“{value}”不是有效的数字")
    if isinstance(value, int | float):
        if float(value).is_integer() and value > 0:
            return int(value)
        raise CellError(f"序号“{clean_text(value)}”不是有效的数字")
    text = one_line(value).replace(" ", "")
    if not text:
        return None
    match = _NUMBER.match(text)
    if not match or int(match.group(1)) == 0:
        raise CellError(f"序号“{text}”不是有效的数字")
    return int(match.group(1))


# --- 系统编号 -------------------------------------------------------------------------------


def parse_key(value: object) -> int | None:
    """The hidden 系统编号 (the task's id) the export writes; blank for a new row."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    text = one_line(value)
    if not text:
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    raise CellError(f"系统编号“{text}”无效：请勿修改该列，新增的任务请将其留空")


# --- 完成时限 -------------------------------------------------------------------------------

LONG_TERM_WORDS = ("长期坚持", "持续推进", "长期推进", "常态化推进", "长期", "持续整改")
IMMEDIATE_WORD = "立行立改"


@dataclass(frozen=True)
class Deadline:
    task_type: TaskType
    date: dt.date | None


_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_YM_PART = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*(底|末|上旬|中旬|下旬|前)?$")
_Y_PART = re.compile(r"^(\d{4})\s*年\s*(底|末|年底|年末|内|上半年|下半年|前)$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_BEFORE = re.compile(r"(之前|以前|前|止)$")
_SEPARATORS = re.compile(r"^[\s,，;；:：、（）()]+|[\s,，;；:：、（）()]+$")
# Excel day numbers that can plausibly be a deadline: 1982-02-18 to 2118-12-06.
_SERIAL_RANGE = (30000, 80000)


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _parse_date_text(text: str) -> dt.date:
    """A date written as text. Raises ValueError (also for 2026-13-01, 2026-02-30)."""
    text = _BEFORE.sub("", text.replace(" ", "")).strip()
    if match := _YMD.match(text) or _COMPACT.match(text):
        year, month, day = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    if match := _YM_PART.match(text):
        year, month, part = int(match.group(1)), int(match.group(2)), match.group(3)
        if part == "上旬":
            return dt.date(year, month, 10)
        if part == "中旬":
            return dt.date(year, month, 20)
        return _last_day(year, month)  # 6月, 6月底, 6月末, 6月下旬, 6月前
    if match := _Y_PART.match(text):
        year, part = int(match.group(1)), match.group(2)
        return dt.date(year, 6, 30) if part == "上半年" else dt.date(year, 12, 31)
    raise ValueError(text)


def parse_deadline(value: object) -> Deadline:
    """完成时限: a real Excel date, "2026年6月30日", "2026-06-30", "2026.6.30", "2026/6/30",
    "2026年6月底", "2026年底", "长期坚持"/"持续推进" (long term, no date), "立行立改" with
    or without a date (immediate). Raises CellError; a blank cell is "不能为空"."""
    if isinstance(value, dt.datetime):
        return Deadline(TaskType.BY_DEADLINE, value.date())
    if isinstance(value, dt.date):
        return Deadline(TaskType.BY_DEADLINE, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _SERIAL_RANGE[0] <= value <= _SERIAL_RANGE[1]:
            return Deadline(TaskType.BY_DEADLINE, from_excel(value).date())
        if float(value).is_integer():
            # 20260630 typed as a number
            text = str(int(value))
            if _COMPACT.match(text):
                try:
                    return Deadline(TaskType.BY_DEADLINE, _parse_date_text(text))
                except ValueError:
                    pass
        raise CellError(f"完成时限“{clean_text(value)}”不是有效日期")
    text = one_line(value)
    if not text:
        raise CellError("完成时限不能为空")
    compact = text.replace(" ", "")
    if any(compact.startswith(word) for word in LONG_TERM_WORDS):
        return Deadline(TaskType.LONG_TERM, None)
    task_type = TaskType.BY_DEADLINE
    date_text = compact
    if IMMEDIATE_WORD in compact:
        task_type = TaskType.IMMEDIATE
        date_text = _SEPARATORS.sub("", compact.replace(IMMEDIATE_WORD, ""))
        # "立行立改，并于2026年3月31日前完成" → the date part
        date_text = re.sub(r"^(并于|并在|于|在|限)", "", date_text)
        date_text = re.sub(r"(完成|整改到位|整改完成)$", "", date_text)
        if not date_text:
            return Deadline(TaskType.IMMEDIATE, None)
    try:
        return Deadline(task_type, _parse_date_text(date_text))
    except ValueError:
        raise CellError(f"完成时限“{text}”不是有效日期") from None


def format_deadline(task_type: str, date: dt.date | None) -> object:
    """The deadline cell on export: a real date, or the words that carry the task type."""
    if task_type == TaskType.LONG_TERM and date is None:
        return "长期坚持"
    if task_type == TaskType.IMMEDIATE:
        return f"立行立改（{date.year}年{date.month}月{date.day}日）" if date else IMMEDIATE_WORD
    return date


# --- 完成情况 -------------------------------------------------------------------------------

_STATUS_GROUPS: dict[TaskStatus, tuple[str, ...]] = {
    TaskStatus.COMPLETED: (
        "已完成", "已销号", "完成", "已完成整改", "已整改", "已整改完成", "已办结", "整改完成",
        "已完成整改（已销号）", "已完成整改(已销号)", "已完成（已销号）", "已完成(已销号)",
    ),
    TaskStatus.BASICALLY_COMPLETED: ("基本完成", "基本完成整改", "基本整改到位"),
    TaskStatus.LONG_TERM: ("长期坚持", "持续推进", "长期推进", "常态化推进"),
    TaskStatus.IN_PROGRESS: ("整改中", "正在整改", "推进中", "正在推进", "进行中", "整改推进中"),
    TaskStatus.SUBMITTED: ("已提交", "待审核", "已提交待审核", "待销号", "申请销号", "已申请销号"),
    TaskStatus.NOT_STARTED: ("未启动", "未开始", "尚未启动", "未整改"),
}
_STATUS_WORDS = {word: status for status, words in _STATUS_GROUPS.items() for word in words}
# The labels the export writes are always read back.
_STATUS_WORDS.update({str(s.label): s for s in TaskStatus})
STATUS_CHOICES_HINT = "未启动、整改中、已提交、已完成、基本完成、长期坚持"


def parse_status(value: object) -> TaskStatus:
    """完成情况 → status; blank is not started. Raises CellError for anything else."""
    text = one_line(value).replace(" ", "")
    if not text:
        return TaskStatus.NOT_STARTED
    if text in _STATUS_WORDS:
        return _STATUS_WORDS[text]
    raise CellError(f"完成情况“{one_line(value)}”无法识别，可填写：{STATUS_CHOICES_HINT}")


# --- 重点任务 / 优先级 -------------------------------------------------------------------------

KEY_TASK_YES = "是"
_KEY_YES = {"是", "重点", "重点任务", "√", "✓", "Y", "YES", "TRUE", "1"}
_KEY_NO = {"", "否", "不是", "非重点", "—", "-", "×", "N", "NO", "FALSE", "0"}


def parse_key_task(value: object) -> bool:
    """重点任务: “是” (or 重点, √) → True; blank or “否” → False. Raises CellError otherwise."""
    text = one_line(value).replace(" ", "").upper()
    if text in _KEY_YES:
        return True
    if text in _KEY_NO:
        return False
    raise CellError(f"重点任务“{one_line(value)}”无法识别，请填写“是”或留空")


_PRIORITY_WORDS = {str(label): int(value) for value, label in TaskPriority.choices} | {
    "普通": TaskPriority.NORMAL, "重要": TaskPriority.ELEVATED, "急": TaskPriority.URGENT,
    "特急": TaskPriority.URGENT, "加急": TaskPriority.HIGH,
}
PRIORITY_CHOICES_HINT = "、".join(str(label) for label in TaskPriority.labels)


def parse_priority(value: object) -> int:
    """优先级: 一般 / 较高 / 高 / 紧急 (or 1–4); blank is 一般. Raises CellError otherwise."""
    text = one_line(value).replace(" ", "")
    if not text:
        return int(TaskPriority.NORMAL)
    if text in _PRIORITY_WORDS:
        return int(_PRIORITY_WORDS[text])
    if text.isdigit() and int(text) in TaskPriority.values:
        return int(text)
    raise CellError(f"优先级“{one_line(value)}”无法识别，可填写：{PRIORITY_CHOICES_HINT}")


# --- 责任单位 / 配合单位 ---------------------------------------------------------------------

_UNIT_SPLIT = re.compile(r"[、，,；;\n\s]+")
_LABEL = re.compile(
    r"(牵头单位|牵头部门|责任单位|主责单位|配合单位|配合部门|协同单位|协助单位|协办单位)[:：]"
)
_LEAD_LABELS = {"牵头单位", "牵头部门", "责任单位", "主责单位"}
_LEAD_MARK = re.compile(r"[（(]牵头[）)]|[（(]主责[）)]")
_SUPPORT_MARK = re.compile(r"[（(](配合|协同|协助)[）)]")


def split_unit_names(value: object) -> list[str]:
    return [name for name in _UNIT_SPLIT.split(clean_text(value)) if name]


def parse_units(lead_cell: object, supporting_cell: object = None) -> tuple[str, list[str]]:
    """The lead unit's name and the supporting units' names.

    "市教育局" / "市教育局、市财政局" (the first leads) / "牵头单位：市教育局；配合单位：市财政局、
    东湖区" / "市财政局、市教育局（牵头）". A separate 配合单位 column adds to the supporting
    units. Returns ("", [...]) when no lead unit is named."""
    text = clean_text(lead_cell)
    lead: list[str] = []
    supporting: list[str] = []
    parts = _LABEL.split(text)
    if len(parts) > 1:
        # ["before", label, body, label, body, ...]
        lead.extend(split_unit_names(parts[0]))
        for label, body in zip(parts[1::2], parts[2::2], strict=True):
            (lead if label in _LEAD_LABELS else supporting).extend(split_unit_names(body))
    else:
        names = split_unit_names(text)
        marked = [n for n in names if _LEAD_MARK.search(n)]
        if marked:
            lead = [_LEAD_MARK.sub("", n) for n in marked]
            supporting = [n for n in names if n not in marked]
        else:
            lead, supporting = names[:1], names[1:]
    supporting.extend(split_unit_names(supporting_cell))
    supporting = [_SUPPORT_MARK.sub("", _LEAD_MARK.sub("", n)) for n in supporting]
    lead = [_SUPPORT_MARK.sub("", _LEAD_MARK.sub("", n)) for n in lead]
    # Several units labelled as leading: the first leads, the others support.
    first = lead[0] if lead else ""
    rest = lead[1:] + supporting
    seen = {first}
    unique = []
    for name in rest:
        if name and name not in seen:
            seen.add(name)
            unique.append(name)
    return first, unique
