"""Session outputs: ``metrics.json``, the CSV tables and the self-contained ``report.html``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cuevision.events import write_events
from cuevision.files import make_private_dir, write_json, write_text
from cuevision.metrics.session import Basis, session_metrics
from cuevision.metrics.signals import read_signals
from cuevision.metrics.turns import read_voices
from cuevision.scheme import Scheme
from cuevision.types import Event


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_session_outputs(
    outdir: Path,
    events: Sequence[Event],
    *,
    scheme: Scheme,
    duration_s: float,
    basis: Basis,
    signals: Path | None = None,
    provenance: dict[str, Any] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Compute every metric of one session and write metrics.json, the CSVs and report.html.

    Returns the metrics dict that ``metrics.json`` holds.
    """
    from cuevision.report.html import render_report
    from cuevision.report.tables import write_tables

    outdir = Path(outdir)
    table = read_signals(signals) if signals is not None else None
    metrics = session_metrics(
        events,
        scheme=scheme,
        duration_s=duration_s,
        basis=basis,
        signals=table,
        voices=read_voices(signals, duration_s=duration_s) if signals is not None else None,
        provenance={**(provenance or {}), **({"signals": signals.name} if signals else {})},
    )
    data = _plain(metrics.to_dict())
    make_private_dir(outdir)
    write_tables(outdir, metrics)
    if metrics.voices is not None:  # the audio's vocalisations, as events of the vocal scheme
        write_events(outdir / "voices.csv", metrics.voices.vocalisations)
    write_text(
        outdir / "report.html", render_report(metrics, scheme, title or f"Session {outdir.name}")
    )
    write_json(outdir / "metrics.json", data)  # last: its presence says the set is complete
    return data
