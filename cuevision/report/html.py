"""``report.html``: one self-contained page (inline CSS, figures as data URIs) a clinician can open
offline. Layout: basis banner, headline numbers, timeline, responsiveness, contingency, synchrony,
repair, then coverage, settings and provenance for whoever checks the numbers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from cuevision.metrics.session import SessionMetrics
from cuevision.report import plots
from cuevision.report.words import (
    contingency_sentence,
    latency_sentence,
    repair_sentence,
    seconds,
    synchrony_sentence,
    words,
)
from cuevision.scheme import Scheme

OPEN_HEATMAPS = 2  # heatmaps shown unfolded (the clearest synchrony); the rest are folded

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;
color:#1d2430;line-height:1.45}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.2em;margin:1.8em 0 .5em;border-bottom:2px solid #e2e6ec;padding-bottom:.2em}
h3{font-size:1em;margin:1.2em 0 .3em}
.sub{color:#5b6575;font-size:.92em}
.banner{padding:12px 16px;border-radius:8px;margin:16px 0;font-weight:600}
.banner.candidates{background:#fff4e0;border:1px solid #f0b454;color:#7a4b00}
.banner.confirmed{background:#e6f5ea;border:1px solid #7cc48f;color:#1d5a2c}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #e2e6ec;border-radius:8px;padding:10px 14px;
min-width:150px;flex:1}
.card .n{font-size:1.5em;font-weight:700}.card .t{color:#5b6575;font-size:.85em}
figure{margin:8px 0;background:#fff;border:1px solid #e2e6ec;border-radius:8px;padding:6px}
figure img{width:100%;display:block}figcaption{color:#5b6575;font-size:.85em;padding:4px 6px}
table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:.9em}
th,td{border:1px solid #e2e6ec;padding:4px 9px;text-align:right}th{background:#eef1f5}
td:first-child,th:first-child{text-align:left}
p.say{background:#fff;border-left:4px solid #7a9cc6;padding:8px 12px;margin:8px 0}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:4px;
vertical-align:-1px}
details{margin:8px 0}summary{cursor:pointer;padding:4px 0}
pre{background:#fff;border:1px solid #e2e6ec;padding:10px;overflow-x:auto;font-size:.85em}
.muted{color:#8a93a2}
"""


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _table(header: list[str], rows: list[list[Any]], html_first: bool = False) -> str:
    """A table of escaped values; with ``html_first`` the first cell of each row is trusted HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{v if html_first and i == 0 else _num(v)}</td>" for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _swatch(scheme: Scheme, name: str) -> str:
    kind = scheme.event_type(name)
    color = kind.color if kind else "#444"
    return f'<span class="swatch" style="background:{color}"></span>{escape(words(name))}'


def _banner(metrics: SessionMetrics) -> str:
    by_status = metrics.coverage["events"]["by_status"]
    counts = ", ".join(
        f"{n} {'without a status' if s == 'unspecified' else escape(s)}"
        for s, n in sorted(by_status.items())
    )
    if metrics.basis == "candidates":
        return (
            '<div class="banner candidates">Preliminary: computed from unconfirmed model '
            "candidates. These numbers will change once annotators confirm the events "
            f"({counts}).</div>"
        )
    return (
        '<div class="banner confirmed">Computed from events confirmed by annotators '
        f"({counts}; rejected events are left out).</div>"
    )


def _cards(metrics: SessionMetrics, cue_keys: list[str]) -> str:
    cues = sum(metrics.latency[k].n_cues for k in cue_keys)
    answered = sum(metrics.latency[k].n_responded for k in cue_keys)
    cards = [
        (f"{metrics.duration_s:.1f} s", "session length"),
        (str(len(metrics.events)), "events"),
        (f"{answered} of {cues}", "child cues answered in time"),
    ]
    if metrics.repair is not None:
        cards.append(
            (f"{metrics.repair.n_repaired} of {metrics.repair.n_ruptures}", "ruptures repaired")
        )
    tested = [r for r in metrics.synchrony.values() if r.surrogate_p is not None]
    if tested:
        beyond = sum((r.surrogate_p or 1.0) < 0.05 for r in tested)
        cards.append((f"{beyond} of {len(tested)}", "signals in step beyond chance"))
    elif metrics.synchrony:
        cards.append((f"{len(metrics.synchrony)} signals", "too short to test synchrony"))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="n">{escape(n)}</div>'
            f'<div class="t">{escape(t)}</div></div>'
            for n, t in cards
        )
        + "</div>"
    )


def _responsiveness(metrics: SessionMetrics, scheme: Scheme, cue_keys: list[str]) -> str:
    parts = ["<h2>Responsiveness: how often and how fast the caregiver answered</h2>"]
    if not cue_keys:
        return parts[0] + "<p>The scheme defines no contingency rules.</p>"
    parts.append(
        f'<figure><img alt="response rate and latency per cue type" '
        f'src="{plots.latency_overview(metrics, cue_keys, scheme)}"><figcaption>Left: share of '
        "cues answered within the window. Right: each answered cue's latency; the black bar is "
        "the Kaplan–Meier median (unanswered cues count as waits longer than the window)."
        "</figcaption></figure>"
    )
    rows = []
    for key in cue_keys:
        r = metrics.latency[key]
        rows.append(
            [
                _swatch(scheme, key),
                r.n_cues,
                r.n_responded,
                r.response_rate,
                seconds(r.mean_latency_s),
                seconds(r.median_latency_s),
            ]
        )
    header = ["cue", "cues", "answered", "rate", "mean latency", "median (KM)"]
    parts.append(_table(header, rows, html_first=True))
    return "".join(parts)


def _contingency(metrics: SessionMetrics, cue_keys: list[str]) -> str:
    unit = metrics.settings["time_unit_s"]
    parts = [
        "<h2>Contingency: do responses cluster after cues?</h2>",
        f'<p class="sub">Time-window sequential analysis (Bakeman &amp; Quera): the session is '
        f"cut into {unit:g} s units; <i>given</i> units lie in the window after a cue, "
        "<i>target</i> units hold a response onset. Yule’s Q runs from −1 (responses avoid the "
        "windows) through 0 (unrelated) to +1 (responses only in the windows); p comes from "
        f"{metrics.settings['permutations']} circular shifts of the response stream.</p>",
    ]
    for key in cue_keys:
        link, result = metrics.links[key], metrics.contingency[key]
        parts.append(f"<h3>{escape(words(key))}</h3>")
        parts.append(
            f'<p class="say">{latency_sentence(link, metrics.latency[key])}<br>'
            f"{contingency_sentence(link, result)}</p>"
        )
        parts.append(
            _table(
                ["time units", "response onset", "no response onset"],
                [
                    [f"within {link.window_s:g} s after a cue", result.a, result.b],
                    ["at other times", result.c, result.d],
                ],
            )
        )
    pairs = [k for k in metrics.contingency if k not in cue_keys]
    if pairs:
        rows = []
        for key in pairs:
            r = metrics.contingency[key]
            p = "–" if r.p_value is None else f"{r.p_value:.3f}"
            rows.append([words(key), r.a, r.b, r.c, r.d, r.yules_q, r.odds_ratio, p])
        parts.append("<h3>Each cue → response pair</h3>")
        parts.append(_table(["pair", "a", "b", "c", "d", "Q", "odds ratio", "p"], rows))
    return "".join(parts)


def _synchrony(metrics: SessionMetrics) -> str:
    parts = ["<h2>Synchrony: moving in step</h2>"]
    if not metrics.synchrony:
        return parts[0] + (
            '<p class="muted">No feature signals were given (<code>--signals</code>), so '
            "synchrony was not computed.</p>"
        )
    s = metrics.settings["synchrony"]
    parts.append(
        '<p class="sub">Windowed lagged cross-correlation (Boker et al. 2002): '
        f"{s['window_s']:g} s windows every {s['step_s']:g} s, lags up to ±{s['max_lag_s']:g} s; "
        "positive lag = the "
        "caregiver follows the child. Red = moving together, blue = moving oppositely; dots mark "
        f"each window's peak nearest lag 0. Tested against {s['surrogates']} segment-shuffled "
        "surrogates.</p>"
    )
    rows = []
    for name, r in metrics.synchrony.items():
        p = "–" if r.surrogate_p is None else f"{r.surrogate_p:.3f}"
        lag = r.median_peak_lag_s
        rows.append(
            [
                words(name),
                r.mean_r_at_peak,
                p,
                r.effect_size,
                r.leader,
                "–" if lag is None else f"{lag:+.2f} s",
                r.coverage,
            ]
        )
    header = ["signal", "mean peak r", "p", "effect size", "leader", "median lag", "coverage"]
    parts.append(_table(header, rows))
    if any(r.surrogate_p is None for r in metrics.synchrony.values()):
        parts.append(
            '<p class="muted">p “–”: too little data for the surrogate test (it needs at least '
            "two segments of one window plus both lag margins), so no leader is named.</p>"
        )
    # the clearest signals first and open; the rest folded so the page stays readable
    ranked = sorted(
        metrics.synchrony.items(),
        key=lambda item: (
            item[1].surrogate_p if item[1].surrogate_p is not None else 2.0,
            -(item[1].effect_size or 0.0),
            -(item[1].mean_r_at_peak or -2.0),
        ),
    )
    for rank, (name, result) in enumerate(ranked):
        shown = rank < OPEN_HEATMAPS and result.mean_r_at_peak is not None
        parts.append(
            f"<details{' open' if shown else ''}><summary><b>{escape(words(name))}</b></summary>"
            f'<p class="say">{synchrony_sentence(name, result)}</p>'
        )
        if result.xcorr.r.size:
            parts.append(
                f'<figure><img alt="cross-correlation of {escape(name)}" '
                f'src="{plots.xcorr_heatmap(metrics, name)}"><figcaption>{_num(result.coverage)}'
                " of windows had enough valid samples in both signals.</figcaption></figure>"
            )
        parts.append("</details>")
    return "".join(parts)


def _repair(metrics: SessionMetrics, scheme: Scheme) -> str:
    parts = ["<h2>Rupture and repair</h2>"]
    if metrics.repair is None:
        return parts[0] + "<p>The scheme defines no repair rule.</p>"
    rule = scheme.repair
    assert rule is not None
    parts.append(
        f'<p class="sub">A rupture ({" or ".join(f"“{escape(words(r))}”" for r in rule.ruptures)}) '
        f"is repaired by the next {' or '.join(f'“{escape(words(r))}”' for r in rule.repairs)} "
        f"within {rule.max_s:g} s; a rupture during an unrepaired one joins it.</p>"
    )
    parts.append(f'<p class="say">{repair_sentence(metrics.repair)}</p>')
    rows = [
        [
            f"{e.rupture.onset_s:.1f} s",
            words(e.rupture.type),
            e.ruptures,
            f"{e.repair.onset_s:.1f} s" if e.repair else "not repaired",
            words(e.repair.type) if e.repair else "–",
            seconds(e.wait_s) if e.repaired else f"≥ {e.wait_s:.1f} s",
        ]
        for e in metrics.repair.episodes
    ]
    if rows:
        parts.append(
            _table(["rupture at", "rupture", "ruptures", "repaired at", "repair", "took"], rows)
        )
    return "".join(parts)


def _appendix(metrics: SessionMetrics) -> str:
    blocks = [
        ("Coverage: how much data these numbers rest on", metrics.coverage),
        ("Settings", metrics.settings),
        ("Provenance", metrics.provenance or {"note": "none given"}),
    ]
    events = metrics.coverage["events"]
    signals = metrics.coverage["signals"]
    text = (
        f"{events['n_used']} of {events['n_events']} events were used "
        f"({events['n_excluded']} rejected)."
    )
    if signals:
        valid = ", ".join(f"{words(k)} {v:.0%}" for k, v in signals["valid_fraction"].items())
        text += (
            f" Signals cover {signals['fraction_of_session']:.0%} of the session; "
            f"valid samples: {valid}."
        )
    else:
        text += " No feature signals were given."
    parts = ["<h2>Coverage, settings and provenance</h2>", f"<p>{escape(text)}</p>"]
    for title, data in blocks:
        parts.append(
            f"<details{' open' if title == 'Provenance' else ''}><summary>{escape(title)}</summary>"
            f"<pre>{escape(json.dumps(data, indent=2, default=str))}</pre></details>"
        )
    return "".join(parts)


def render_report(metrics: SessionMetrics, scheme: Scheme, title: str) -> str:
    """The whole report as one HTML string."""
    cue_keys = [k for k, link in metrics.links.items() if k == link.cue]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    provenance = metrics.provenance
    made = ", ".join(
        f"{escape(k)} {escape(str(v))}" for k, v in provenance.items() if v is not None
    )
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="sub">Caregiver–child interaction report · {metrics.duration_s:.1f} s · '
        f"scheme {escape(scheme.name)} v{scheme.version} · made {stamp}"
        f"{' · ' + made if made else ''}</div>",
        _banner(metrics),
        _cards(metrics, cue_keys),
        "<h2>Timeline</h2>",
        f'<figure><img alt="timeline of events" src="{plots.ethogram(metrics, scheme)}">'
        "<figcaption>One row per event type: the child’s on the shaded rows above, the "
        "caregiver’s below. Arrows link each answered cue to its first response."
        "</figcaption></figure>",
        _responsiveness(metrics, scheme, cue_keys),
        _contingency(metrics, cue_keys),
        _synchrony(metrics),
        _repair(metrics, scheme),
        _appendix(metrics),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        + "".join(body)
        + "</main></body></html>\n"
    )
