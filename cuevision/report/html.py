"""``report.html``: one self-contained page (inline CSS, figures as data URIs) a clinician can open
offline. Layout: basis banner, headline numbers, timeline, responsiveness, contingency, synchrony,
repair, voices (vocal turns; "audio absent" without an audio track), then coverage, settings
and provenance for whoever checks the numbers, and the scheme's coding manual.

Text is escaped in one place: every fragment is built with :class:`markupsafe.Markup` templates,
whose ``format`` and ``join`` escape any value that is not itself Markup. A signal name, a type
name, a title or a manual's sentence is a plain ``str``, so it can only ever reach the page as
text; only this module's own templates (and :mod:`cuevision.report.words`') are Markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

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
.voices{position:relative;background:#fff;border:1px solid #e2e6ec;border-radius:8px;
padding:6px 6px 6px 90px}
.voices .row{position:relative;height:18px;margin:4px 0}
.voices .row b{position:absolute;left:-84px;font-size:.8em;font-weight:600;color:#5b6575}
.voices .row span{position:absolute;top:2px;height:14px;border-radius:2px}
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
    return str(value)


def _join(parts: Iterable[Any]) -> Markup:
    """Fragments side by side; a plain ``str`` among them is escaped."""
    return Markup("").join(parts)


def _table(header: list[str], rows: list[list[Any]]) -> Markup:
    """A table of values; a Markup cell (a swatch) is kept, anything else is shown as text."""
    head = _join(Markup("<th>{}</th>").format(h) for h in header)
    body = _join(
        Markup("<tr>{}</tr>").format(
            _join(
                Markup("<td>{}</td>").format(v if isinstance(v, Markup) else _num(v)) for v in row
            )
        )
        for row in rows
    )
    return Markup("<table><tr>{}</tr>{}</table>").format(head, body)


def _figure(alt: str, src: str, caption: Any) -> Markup:
    return Markup('<figure><img alt="{}" src="{}"><figcaption>{}</figcaption></figure>').format(
        alt, src, caption
    )


def _swatch(scheme: Scheme, name: str) -> Markup:
    kind = scheme.event_type(name)
    color = kind.color if kind else "#444"
    return Markup('<span class="swatch" style="background:{}"></span>{}').format(color, words(name))


def _banner(metrics: SessionMetrics) -> Markup:
    by_status = metrics.coverage["events"]["by_status"]
    counts = ", ".join(
        f"{n} {'without a status' if s == 'unspecified' else s}"
        for s, n in sorted(by_status.items())
    )
    if metrics.basis == "candidates":
        return Markup(
            '<div class="banner candidates">Preliminary: computed from unconfirmed model '
            "candidates. These numbers will change once annotators confirm the events "
            "({}).</div>"
        ).format(counts)
    return Markup(
        '<div class="banner confirmed">Computed from events confirmed by annotators '
        "({}; rejected events are left out).</div>"
    ).format(counts)


def _cards(metrics: SessionMetrics, cue_keys: list[str]) -> Markup:
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
    return Markup('<div class="cards">{}</div>').format(
        _join(
            Markup('<div class="card"><div class="n">{}</div><div class="t">{}</div></div>').format(
                n, t
            )
            for n, t in cards
        )
    )


def _responsiveness(metrics: SessionMetrics, scheme: Scheme, cue_keys: list[str]) -> Markup:
    title = Markup("<h2>Responsiveness: how often and how fast the caregiver answered</h2>")
    if not cue_keys:
        return title + Markup("<p>The scheme defines no contingency rules.</p>")
    parts = [
        title,
        _figure(
            "response rate and latency per cue type",
            plots.latency_overview(metrics, cue_keys, scheme),
            "Left: share of cues answered within the window. Right: each answered cue's "
            "latency; the black bar is the Kaplan–Meier median (unanswered cues count as waits "
            "longer than the window).",
        ),
    ]
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
    parts.append(_table(header, rows))
    return _join(parts)


def _contingency(metrics: SessionMetrics, cue_keys: list[str]) -> Markup:
    unit = metrics.settings["time_unit_s"]
    parts = [
        Markup("<h2>Contingency: do responses cluster after cues?</h2>"),
        Markup(
            '<p class="sub">Time-window sequential analysis (Bakeman &amp; Quera): the session is '
            "cut into {} s units; <i>given</i> units lie in the window after a cue, "
            "<i>target</i> units hold a response onset. Yule’s Q runs from −1 (responses avoid "
            "the windows) through 0 (unrelated) to +1 (responses only in the windows); p comes "
            "from {} circular shifts of the response stream.</p>"
        ).format(f"{unit:g}", metrics.settings["permutations"]),
    ]
    for key in cue_keys:
        link, result = metrics.links[key], metrics.contingency[key]
        parts.append(Markup("<h3>{}</h3>").format(words(key)))
        parts.append(
            Markup('<p class="say">{}<br>{}</p>').format(
                latency_sentence(link, metrics.latency[key]), contingency_sentence(link, result)
            )
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
        parts.append(Markup("<h3>Each cue → response pair</h3>"))
        parts.append(_table(["pair", "a", "b", "c", "d", "Q", "odds ratio", "p"], rows))
    return _join(parts)


def _synchrony(metrics: SessionMetrics) -> Markup:
    title = Markup("<h2>Synchrony: moving in step</h2>")
    if not metrics.synchrony:
        return title + Markup(
            '<p class="muted">No feature signals were given (<code>--signals</code>), so '
            "synchrony was not computed.</p>"
        )
    s = metrics.settings["synchrony"]
    parts = [
        title,
        Markup(
            '<p class="sub">Windowed lagged cross-correlation (Boker et al. 2002): '
            "{} s windows every {} s, lags up to ±{} s; positive lag = the caregiver follows the "
            "child. Red = moving together, blue = moving oppositely; dots mark each window's peak "
            "nearest lag 0. Tested against {} segment-shuffled surrogates.</p>"
        ).format(f"{s['window_s']:g}", f"{s['step_s']:g}", f"{s['max_lag_s']:g}", s["surrogates"]),
    ]
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
            Markup(
                '<p class="muted">p “–”: too little data for the surrogate test (it needs at '
                "least two segments of one window plus both lag margins), so no leader is "
                "named.</p>"
            )
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
        figure = (
            _figure(
                f"cross-correlation of {name}",
                plots.xcorr_heatmap(metrics, name),
                f"{_num(result.coverage)} of windows had enough valid samples in both signals.",
            )
            if result.xcorr.r.size
            else ""
        )
        parts.append(
            Markup(
                '<details{}><summary><b>{}</b></summary><p class="say">{}</p>{}</details>'
            ).format(
                Markup(" open") if shown else "",
                words(name),
                synchrony_sentence(name, result),
                figure,
            )
        )
    return _join(parts)


def _repair(metrics: SessionMetrics, scheme: Scheme) -> Markup:
    title = Markup("<h2>Rupture and repair</h2>")
    if metrics.repair is None:
        return title + Markup("<p>The scheme defines no repair rule.</p>")
    rule = scheme.repair
    assert rule is not None

    def either(names: tuple[str, ...]) -> str:
        return " or ".join(f"“{words(n)}”" for n in names)

    parts = [
        title,
        Markup(
            '<p class="sub">A rupture ({}) is repaired by the next {} within {} s; a rupture '
            "during an unrepaired one joins it.</p>"
        ).format(either(rule.ruptures), either(rule.repairs), f"{rule.max_s:g}"),
        Markup('<p class="say">{}</p>').format(repair_sentence(metrics.repair)),
    ]
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
    return _join(parts)


VOICE_COLOURS = {"child": "#e07b39", "caregiver": "#3b6fb6"}


def _voices(metrics: SessionMetrics) -> Markup:
    """Both people's vocalisations on a timeline, the turn count and the vocal replies."""
    title = Markup("<h2>Voices: who spoke when, and turn-taking</h2>")
    voices = metrics.voices
    if voices is None:
        return title + Markup(
            "<p>No voice measures were given (the signals are not a features.parquet).</p>"
        )
    if not voices.audio:
        return title + Markup(
            "<p><b>Audio absent:</b> this video has no audio track, so there are no vocal "
            "turns or vocal replies.</p>"
        )
    span = max(metrics.duration_s, 1e-9)
    rows = []
    for role in ("child", "caregiver"):
        bars = _join(
            Markup('<span style="left:{}%;width:{}%;background:{}" title="{}"></span>').format(
                f"{100 * e.onset_s / span:.3f}",
                f"{max(0.2, 100 * e.duration_s / span):.3f}",
                VOICE_COLOURS[role],
                f"{e.onset_s:.1f}–{e.offset_s:.1f} s",
            )
            for e in voices.vocalisations
            if e.actor == role
        )
        rows.append(Markup('<div class="row"><b>{}</b>{}</div>').format(role, bars))
    parts = [title, Markup('<div class="voices">{}</div>').format(_join(rows))]
    turns = voices.turns
    if turns is not None:
        rate = turns.per_minute
        parts.append(
            Markup(
                '<p class="say">{} conversational turns ({} per minute): the child started '
                "{}, the caregiver {}. A turn is a child and an adult vocalisation, in "
                "either order, less than {} s apart, counted in pairs (LENA’s rule).</p>"
            ).format(
                turns.n_turns,
                "–" if rate is None else f"{rate:.1f}",
                turns.initiated_by["child"],
                turns.initiated_by["caregiver"],
                f"{turns.max_pause_s:g}",
            )
        )
    replies = voices.replies
    if replies is not None:
        if replies.n_cues:
            text = Markup(
                "The caregiver answered <b>{} of {}</b> of the child’s vocalisations with her "
                "or his voice within {} s."
            ).format(replies.n_responded, replies.n_cues, f"{replies.window_s:g}")
            if replies.median_latency_s is not None:
                text += f" Half were answered within {seconds(replies.median_latency_s)}."
        else:
            text = Markup("The child did not vocalise, so there were no vocal replies to time.")
        parts.append(Markup('<p class="say">{}</p>').format(text))
    who = voices.coverage.get("who_from", {})
    if who.get("pitch_only") is not None:
        parts.append(
            Markup(
                '<p class="sub">Who spoke was judged from the voice’s pitch and both '
                "people’s mouth motion for {} of the vocal time, one mouth for {}, and pitch "
                "alone (no face visible) for {}. These vocalisations are measured, not "
                "confirmed by a coder.</p>"
            ).format(
                f"{who['both_faces']:.0%}", f"{who['one_face']:.0%}", f"{who['pitch_only']:.0%}"
            )
        )
    return _join(parts)


def _appendix(metrics: SessionMetrics) -> Markup:
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
    parts = [Markup("<h2>Coverage, settings and provenance</h2><p>{}</p>").format(text)]
    for title, data in blocks:
        parts.append(
            Markup("<details{}><summary>{}</summary><pre>{}</pre></details>").format(
                Markup(" open") if title == "Provenance" else "",
                title,
                json.dumps(data, indent=2, default=str),
            )
        )
    return _join(parts)


def _manual(scheme: Scheme) -> Markup:
    """The scheme's coding manual: what the events in this report were coded by."""
    title = Markup('<h2 id="manual">Coding manual</h2>')
    manual = scheme.manual
    if manual is None:
        return title + Markup(
            '<p class="muted">The scheme {} carries no coding manual.</p>'
        ).format(scheme.name)
    rules = [f"Minimum gap between two events of a type: {manual.min_gap_s:g} s."]
    parts = [
        title,
        Markup('<p class="sub">How the events of scheme {} v{} are coded.</p>').format(
            scheme.name, scheme.version
        ),
        Markup("<h3>General rules</h3><ul>{}</ul>").format(
            _join(Markup("<li>{}</li>").format(r) for r in (*rules, *manual.general))
        ),
    ]
    for kind in scheme.event_types:
        entry = manual.types[kind.name]
        parts.append(
            Markup(
                '<h3>{} <span class="muted">({} {})</span></h3><p class="sub">{}</p>'
                "<p><b>Code when:</b> {}</p><p><b>Onset:</b> {}</p><p><b>Offset:</b> {}</p>"
                "<p><b>Not this:</b></p><ul>{}</ul>"
            ).format(
                _swatch(scheme, kind.name),
                kind.actor,
                kind.kind,
                kind.description,
                entry.code_when,
                entry.onset,
                entry.offset,
                _join(Markup("<li>{}</li>").format(t) for t in entry.not_this),
            )
        )
    return _join(parts)


def render_report(metrics: SessionMetrics, scheme: Scheme, title: str) -> str:
    """The whole report as one HTML string."""
    cue_keys = [k for k, link in metrics.links.items() if k == link.cue]
    made = ", ".join(f"{k} {v}" for k, v in metrics.provenance.items() if v is not None)
    body = [
        Markup("<h1>{}</h1>").format(title),
        Markup(
            '<div class="sub">Caregiver–child interaction report · {} s · scheme {} v{}{}</div>'
        ).format(
            f"{metrics.duration_s:.1f}",
            scheme.name,
            scheme.version,
            f" · {made}" if made else "",
        ),
        _banner(metrics),
        _cards(metrics, cue_keys),
        Markup("<h2>Timeline</h2>"),
        _figure(
            "timeline of events",
            plots.ethogram(metrics, scheme),
            "One row per event type: the child’s on the shaded rows above, the caregiver’s "
            "below. Arrows link each answered cue to its first response.",
        ),
        _responsiveness(metrics, scheme, cue_keys),
        _contingency(metrics, cue_keys),
        _synchrony(metrics),
        _repair(metrics, scheme),
        _voices(metrics),
        _appendix(metrics),
        _manual(scheme),
    ]
    page = Markup(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
        "<style>{}</style></head><body><main>{}</main></body></html>\n"
    ).format(title, Markup(CSS), _join(body))
    return str(page)
