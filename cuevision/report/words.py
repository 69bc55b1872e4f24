"""Plain-language sentences for the report: what each number means for this dyad.

The sentences are built from the scheme's type names, never from hard-coded labels, and always
keep the count behind a rate ("2 of 4"), because a rate of 50 % from 4 cues is not one from 400.

A sentence is plain text (``str``, escaped wherever it is placed) unless it bolds a count; then it
is :class:`markupsafe.Markup` built from a template, so the names in it are still escaped.
"""

from __future__ import annotations

from markupsafe import Markup

from cuevision.metrics.contingency import Contingency
from cuevision.metrics.latency import Latency
from cuevision.metrics.repair import Repair
from cuevision.metrics.session import Link
from cuevision.metrics.synchrony import Synchrony


def words(name: str) -> str:
    return name.replace("_", " ")


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def _responses(link: Link) -> str:
    return " or ".join(f"“{words(r)}”" for r in link.responses)


def latency_sentence(link: Link, result: Latency) -> Markup:
    cue = f"“{words(link.cue)}”"
    if not result.n_cues:
        return Markup("There were no {} cues in this session.").format(cue)
    text = Markup("The caregiver answered <b>{} of {}</b> {} cues within {} s (with {}).").format(
        result.n_responded, result.n_cues, cue, f"{link.window_s:g}", _responses(link)
    )
    if result.median_latency_s is not None:
        text += f" Half of the cues were answered within {seconds(result.median_latency_s)}."
    elif result.n_responded:
        text += " Fewer than half were answered, so there is no median latency."
    return text


def contingency_sentence(link: Link, result: Contingency) -> str:
    q, p = result.yules_q, result.p_value
    if q is None or p is None:
        return "Too few cues or responses to compare the time after a cue with other times."
    strength, than = abs(q), "than"
    if strength < 0.2:
        how, than = "about as likely", "as"
    else:
        how = f"{'much' if strength >= 0.5 else 'somewhat'} {'more' if q > 0 else 'less'} likely"
    chance = (
        f"With p = {p:.3f} this is unlikely to be chance."
        if p < 0.05
        else f"With p = {p:.2f} this could well be chance."
    )
    return (
        f"A {_responses(link)} response was {how} to start in the {link.window_s:g} s after a "
        f"“{words(link.cue)}” cue {than} at other times (Yule’s Q = {q:+.2f}). {chance}"
    )


def synchrony_sentence(name: str, result: Synchrony) -> str:
    r, p = result.mean_r_at_peak, result.surrogate_p
    if r is None:
        return f"{words(name).capitalize()}: too little valid signal to measure synchrony."
    if p is None:
        return (
            f"{words(name).capitalize()}: mean peak correlation r = {r:.2f}, but the session is "
            "too short to test it against chance (the surrogate test needs at least two "
            "segments of a window plus both lag margins), so no leader is named."
        )
    verdict = (
        "more in step than chance (shuffled surrogates)"
        if p < 0.05
        else "not more in step than shuffled surrogates"
    )
    text = (
        f"{words(name).capitalize()}: mean peak correlation r = {r:.2f}, {verdict} "
        f"(p = {p:.3f}, effect size {result.effect_size or 0:.1f} SD)."
    )
    lag = result.median_peak_lag_s
    if result.leader == "child" and lag is not None:
        text += f" The caregiver typically followed the child by {lag:.1f} s."
    elif result.leader == "caregiver" and lag is not None:
        text += f" The child typically followed the caregiver by {-lag:.1f} s."
    else:
        text += " Neither partner clearly led."
    return text


def repair_sentence(result: Repair) -> Markup:
    if not result.n_ruptures:
        return Markup("There were no ruptures in this session.")
    text = Markup("<b>{} of {}</b> ruptures were repaired").format(
        result.n_repaired, result.n_ruptures
    )
    if result.median_repair_s is not None:
        text += f"; half of them within {seconds(result.median_repair_s)}"
    else:
        text += "; fewer than half were repaired, so there is no median repair time"
    return text + (
        f" (an unrepaired rupture counts as lasting at least until {result.max_s:g} s "
        "or the end of the session)."
    )
