"""Where the dashboard and the monthly report get their figures.

The rollups engine (reports.rollups, issue 4) when it is installed; until it lands on main,
the interim stand-in reports.web.interim_rollups, which has the same names and shapes. Once
reports/rollups.py is merged this module needs no change; the interim module can be deleted.
"""

import importlib
import importlib.util

_engine = (
    importlib.import_module("reports.rollups")
    if importlib.util.find_spec("reports.rollups") is not None
    else importlib.import_module("reports.web.interim_rollups")
)

ENGINE = _engine.__name__
Grouping = _engine.Grouping
Light = _engine.Light
RollupFilters = _engine.RollupFilters
rollup = _engine.rollup
trend = _engine.trend
unit_in_reach = _engine.unit_in_reach
unit_tree = _engine.unit_tree
