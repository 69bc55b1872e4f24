"""The report's figures, drawn by matplotlib's Agg renderer and returned as base64 PNG data URIs.

Each function takes the computed metrics and the scheme (for colours and row order) and returns a
string usable as ``<img src=...>``, so the HTML file carries its figures inside itself.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cuevision.metrics.session import SessionMetrics
from cuevision.report.words import words
from cuevision.scheme import Scheme
from cuevision.types import Event

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EPS = 1e-6


def _figure(width: float, height: float) -> Figure:
    """A pyplot-free figure: no global state, rendered to PNG by the Agg canvas."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _rows(scheme: Scheme) -> list[str]:
    """Child types first (top), then caregiver types, each in scheme order."""
    return [t.name for t in scheme.types_of(actor="child")] + [
        t.name for t in scheme.types_of(actor="caregiver")
    ]


def _links(metrics: SessionMetrics) -> list[tuple[Event, Event]]:
    """(cue, response) pairs behind the answered latencies of each cue type (pooled responses)."""
    pairs = []
    for key, link in metrics.links.items():
        if key != link.cue:
            continue
        cues = sorted((e for e in metrics.events if e.type == link.cue), key=lambda e: e.onset_s)
        answers = [e for e in metrics.events if e.type in link.responses]
        for cue, wait in zip(cues, metrics.latency[key].latencies_s, strict=True):
            if wait is None:
                continue
            response = min(answers, key=lambda e: abs(e.onset_s - cue.onset_s - wait))
            pairs.append((cue, response))
    return pairs


def ethogram(metrics: SessionMetrics, scheme: Scheme) -> str:
    """One row per event type (child above, caregiver below), cue->response links drawn."""
    rows = _rows(scheme)
    y_of = {name: len(rows) - 1 - i for i, name in enumerate(rows)}
    figure = _figure(11, 0.42 * len(rows) + 1.3)
    ax = figure.subplots()
    n_child = len(scheme.types_of(actor="child"))
    ax.axhspan(len(rows) - n_child - 0.5, len(rows) - 0.5, color="#f3f6fb", zorder=0)
    min_width = metrics.duration_s / 400
    for event in metrics.events:
        kind = scheme.event_type(event.type)
        color = kind.color if kind else "#444444"
        width = max(event.duration_s, min_width)
        ax.broken_barh(
            [(event.onset_s, width)], (y_of[event.type] - 0.32, 0.64), color=color, zorder=2
        )
    for cue, response in _links(metrics):
        ax.annotate(
            "",
            xy=(response.onset_s, y_of[response.type] + 0.32),
            xytext=(cue.onset_s, y_of[cue.type] - 0.32),
            arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 0.8, "alpha": 0.7},
            zorder=3,
        )
    ax.set_yticks(range(len(rows)), [words(name) for name in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0, metrics.duration_s)
    ax.set_xlabel("time in the session (s)")
    ax.grid(axis="x", color="#dddddd", lw=0.6, zorder=1)
    ax.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def latency_overview(metrics: SessionMetrics, cue_keys: Sequence[str], scheme: Scheme) -> str:
    """Response rate per cue type (bars) and each answered cue's latency (dots), median marked."""
    figure = _figure(11, 0.55 * len(cue_keys) + 1.4)
    rate_ax, wait_ax = figure.subplots(1, 2, sharey=True, width_ratios=(1, 2))
    ys = np.arange(len(cue_keys))[::-1]
    rng = np.random.default_rng(0)
    for y, key in zip(ys, cue_keys, strict=True):
        result = metrics.latency[key]
        kind = scheme.event_type(metrics.links[key].cue)
        color = kind.color if kind else "#444444"
        rate = result.response_rate or 0.0
        rate_ax.barh(y, rate, color=color, height=0.6)
        rate_ax.text(
            min(rate, 1.0) + 0.02,
            y,
            f"{result.n_responded} of {result.n_cues}",
            va="center",
            fontsize=8,
        )
        waits = np.array([w for w in result.latencies_s if w is not None])
        wait_ax.scatter(
            waits, y + rng.uniform(-0.18, 0.18, waits.size), s=22, color=color, alpha=0.8, zorder=3
        )
        if result.median_latency_s is not None:
            wait_ax.plot([result.median_latency_s] * 2, [y - 0.3, y + 0.3], color="#222222", lw=2)
        wait_ax.axvline(result.window_s, color="#999999", ls="--", lw=0.8)
    rate_ax.set_yticks(ys, [words(k) for k in cue_keys], fontsize=8)
    rate_ax.set_xlim(0, 1.25)
    rate_ax.set_xlabel("response rate (answered cues)")
    windows = [metrics.latency[k].window_s for k in cue_keys] or [1.0]
    wait_ax.set_xlim(-0.05, max(windows) * 1.05)
    wait_ax.set_xlabel("latency to the first response (s); bar = median, dashed = window")
    for ax in (rate_ax, wait_ax):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
    return _data_uri(figure)


def xcorr_heatmap(metrics: SessionMetrics, name: str) -> str:
    """Windowed cross-correlation: time across, lag up; dots mark each window's chosen peak."""
    result = metrics.synchrony[name]
    xcorr = result.xcorr
    figure = _figure(11, 2.8)
    ax = figure.subplots()
    if xcorr.r.size:
        step = float(np.diff(xcorr.times_s[:2])[0]) if xcorr.times_s.size > 1 else 1.0
        lag_step = float(np.diff(xcorr.lags_s[:2])[0]) if xcorr.lags_s.size > 1 else 1.0
        extent = (
            float(xcorr.times_s[0]) - step / 2,
            float(xcorr.times_s[-1]) + step / 2,
            float(xcorr.lags_s[0]) - lag_step / 2,
            float(xcorr.lags_s[-1]) + lag_step / 2,
        )
        image = ax.imshow(
            xcorr.r.T,
            aspect="auto",
            origin="lower",
            extent=extent,
            cmap="RdBu_r",
            vmin=-1,
            vmax=1,
            interpolation="nearest",
        )
        ax.scatter(xcorr.times_s, result.peak_lag_s, s=5, color="#111111", label="peak nearest 0")
        colorbar = figure.colorbar(image, ax=ax, pad=0.01)
        colorbar.set_label("r")
    ax.axhline(0, color="#555555", lw=0.6)
    ax.set_xlabel("window start (s)")
    ax.set_ylabel("lag (s)\n+ caregiver follows")
    return _data_uri(figure)
