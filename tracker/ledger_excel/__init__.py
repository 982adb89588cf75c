"""Reading and writing the rectification ledger (整改台账) as .xlsx, without the database.

`reading.read_ledger(data)` turns a workbook into rows with parsed values and per-row errors;
`writing.write_ledger(rows)` turns rows back into a workbook. Unit names stay strings here:
matching them against the unit tree is the service's business (tracker/services/ledger.py).
See docs/ledger-excel.md for the accepted layouts and values.
"""
