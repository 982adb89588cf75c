"""Editing an exported ledger the way a person does in Excel: by the visible column names."""

import io

from openpyxl import load_workbook

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tracker.models import TaskStatus


def open_sheet(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    columns = {c.value: i + 1 for i, c in enumerate(ws[2]) if c.value}
    return wb, ws, columns


def row_of(ws, columns, title: str) -> int:
    for r in range(3, ws.max_row + 1):
        if ws.cell(r, columns["整改任务"]).value == title:
            return r
    raise AssertionError(f"no row {title}")


def edit(data: bytes, changes: dict[str, dict[str, object]]) -> bytes:
    """`changes`: task title → {column label: new value}."""
    wb, ws, columns = open_sheet(data)
    for title, cells in changes.items():
        r = row_of(ws, columns, title)
        for label, value in cells.items():
            ws.cell(r, columns[label]).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def append_row(data: bytes, values: dict[str, object]) -> bytes:
    wb, ws, columns = open_sheet(data)
    r = ws.max_row + 1
    for label, value in values.items():
        ws.cell(r, columns[label]).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def make_ledger(n: int, units, *, inspection=None, status=TaskStatus.IN_PROGRESS):
    inspection = inspection or InspectionFactory()
    for i in range(n):
        TaskFactory(
            problem=ProblemFactory(inspection=inspection, number=i + 1, text=f"问题{i + 1}"),
            title=f"任务{i + 1}", lead_unit=units[i % len(units)], status=status,
        )
    return inspection
