"""The report's CSV tables are spreadsheet-safe: text named like a formula stays text."""

from __future__ import annotations

import csv
from pathlib import Path

from cuevision.report.tables import write_cohort

HOSTILE = '=HYPERLINK("http://example.invalid","x")'


def test_cohort_cells_that_look_like_formulas_are_quoted(tmp_path: Path) -> None:
    metrics = {
        "duration_s": 10.0,
        "basis": "confirmed",
        "coverage": {"events": {"by_status": {"@SUM(1)": 2}}},
        "latency": {"child_smiles": {"median_s": -1.5, "note": "+cmd|' /C calc'!A0"}},
        "contingency": {},
        "synchrony": {},
        "repair": None,
    }
    write_cohort(tmp_path / "cohort.csv", {HOSTILE: metrics})
    rows = list(csv.reader((tmp_path / "cohort.csv").open()))
    cells = [cell for row in rows[1:] for cell in row]
    assert f"'{HOSTILE}" in cells and "'@SUM(1)" in cells and "'+cmd|' /C calc'!A0" in cells
    assert "-1.5" in cells  # a number stays a number
    assert not [c for c in cells if c and c[0] in "=+@"]
