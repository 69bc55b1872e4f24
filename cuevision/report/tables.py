"""The CSV tables beside ``metrics.json``, and the long-format rows of a cohort table.

Long format (one row per session per metric) is what R's tidyverse, pandas and SPSS restructure
into whatever shape a study needs, so a cohort of any size stays one simple file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cuevision.events import spreadsheet_text
from cuevision.files import write_text
from cuevision.metrics.session import SessionMetrics

COHORT_COLUMNS = ("session", "section", "key", "metric", "value")


def _cell(value: Any) -> Any:
    """Empty for None; text that a spreadsheet would run as a formula is quoted (OWASP)."""
    if value is None:
        return ""
    return spreadsheet_text(value) if isinstance(value, str) else value


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    write_text(path, text.getvalue())


def write_tables(outdir: Path, metrics: SessionMetrics) -> list[Path]:
    """latency.csv (one row per cue), contingency.csv, synchrony.csv (+ per window), repair.csv."""
    written = []
    rows: list[list[Any]] = []
    for key, result in metrics.latency.items():
        for onset, wait in zip(result.cue_onsets_s, result.latencies_s, strict=True):
            rows.append([key, onset, result.window_s, wait is not None, wait])
    path = outdir / "latency.csv"
    _write(path, ("key", "cue_onset_s", "window_s", "responded", "latency_s"), rows)
    written.append(path)

    fields = ("a", "b", "c", "d", "yules_q", "odds_ratio", "p_value")
    rows = []
    for key, table in metrics.contingency.items():
        link, values = metrics.links[key], table.to_dict()
        rows.append(
            [key, link.cue, " ".join(link.responses), link.window_s, *(values[f] for f in fields)]
        )
    path = outdir / "contingency.csv"
    _write(path, ("key", "cue", "responses", "window_s", *fields), rows)
    written.append(path)

    if metrics.synchrony:
        summary = {k: v.to_dict() for k, v in metrics.synchrony.items()}
        columns = list(next(iter(summary.values())))
        path = outdir / "synchrony.csv"
        _write(path, ("signal", *columns), [[k, *v.values()] for k, v in summary.items()])
        written.append(path)
        rows = []
        for name, sync in metrics.synchrony.items():
            for i, start in enumerate(sync.xcorr.times_s):
                lag, r = sync.peak_lag_s[i], sync.peak_r[i]
                valid = bool(sync.xcorr.valid[i])
                rows.append(
                    [name, round(float(start), 4), valid, *((lag, r) if valid else (None, None))]
                )
        path = outdir / "synchrony_windows.csv"
        _write(path, ("signal", "window_start_s", "valid", "peak_lag_s", "peak_r"), rows)
        written.append(path)

    if metrics.repair is not None:
        episodes = [e.to_dict() for e in metrics.repair.episodes]
        columns = list(episodes[0]) if episodes else ["rupture_type"]
        path = outdir / "repair.csv"
        _write(path, columns, [list(e.values()) for e in episodes])
        written.append(path)
    return written


def long_rows(session: str, metrics: dict[str, Any]) -> Iterator[tuple[str, str, str, str, Any]]:
    """Every scalar of a metrics.json as ``(session, section, key, metric, value)``."""
    yield session, "session", "", "duration_s", metrics["duration_s"]
    yield session, "session", "", "basis", metrics["basis"]
    for status, n in metrics["coverage"]["events"]["by_status"].items():
        yield session, "coverage", status, "n_events", n
    for section in ("latency", "contingency", "synchrony"):
        for key, values in metrics[section].items():
            for metric, value in values.items():
                if value is None or isinstance(value, int | float | str):
                    yield session, section, key, metric, value
    repair = metrics["repair"] or {}
    for metric, value in repair.items():
        if value is None or isinstance(value, int | float):
            yield session, "repair", "", metric, value


def write_cohort(path: Path, sessions: dict[str, dict[str, Any]]) -> None:
    """One long-format CSV over many sessions' metrics dicts."""
    rows = [row for name, metrics in sessions.items() for row in long_rows(name, metrics)]
    _write(path, COHORT_COLUMNS, rows)
