"""Consensus of two codings, and agreement pooled over sessions, on hand-drawn timelines."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cuevision.events import read_events, write_events
from cuevision.metrics.agreement import compare, compare_sessions, consensus
from cuevision.types import Event

RunCli = Callable[..., subprocess.CompletedProcess[str]]
ACTOR = {"caregiver_looks_at_child": "caregiver", "caregiver_smiles": "caregiver"}


def coded(who: str, name: str, *spans: tuple[float, float]) -> list[Event]:
    actor = ACTOR.get(name, "child")
    return [Event(actor, name, a, b, status="added", annotator=who) for a, b in spans]  # type: ignore[arg-type]


# One session, 10 s, coded by A and B (one character = 0.2 s; "=" marks where an event lasts).
# looks_at_child is caregiver_looks_at_child.
#
#   time (s)            0    1    2    3    4    5    6    7    8    9    10
#   A looks_at_child    [=========) [=======)
#   B looks_at_child     [=========) [======)
#   = consensus         [===================)             two pairs 0.4 s apart: merged
#   A child_smiles           [=========)         [====)
#   B child_smiles             [=========)                      [==)
#   = consensus               [=========)                       A's 5 s and B's 8 s: left out
#   B caregiver_smiles                            [===)         another type: never matched
#   A child_reaches                                        [==)
#   B child_reaches                                             [=)
#   = consensus                                               [=)   onsets exactly 1.0 s apart
#   A child_looks_away                                               [==)
#   B child_looks_away                                              [=)[=)
#   = consensus                                                     [==)  one to one: 9.4 left
A = [
    *coded("a@lab", "caregiver_looks_at_child", (0.0, 2.0), (2.4, 4.0)),
    *coded("a@lab", "child_smiles", (1.0, 3.0), (5.0, 6.0)),
    *coded("a@lab", "child_reaches", (7.0, 7.6)),
    *coded("a@lab", "child_looks_away", (9.0, 9.6)),
]
B = [
    *coded("b@lab", "caregiver_looks_at_child", (0.2, 2.2), (2.6, 4.0)),
    *coded("b@lab", "child_smiles", (1.4, 3.4), (8.0, 8.6)),
    *coded("b@lab", "caregiver_smiles", (5.2, 6.0)),
    *coded("b@lab", "child_reaches", (8.0, 8.4)),
    *coded("b@lab", "child_looks_away", (8.8, 9.2), (9.4, 9.8)),
]
CONSENSUS = [
    ("caregiver_looks_at_child", 0.1, 4.0),
    ("child_smiles", 1.2, 3.2),
    ("child_reaches", 7.5, 8.0),
    ("child_looks_away", 8.9, 9.4),
]


def spans(events: list[Event]) -> list[tuple[str, float, float]]:
    return [(e.type, round(e.onset_s, 6), round(e.offset_s, 6)) for e in events]


def test_matched_events_averaged_unmatched_left_out() -> None:
    made = consensus(A, B, tolerance_s=1.0, min_gap_s=0.5)
    assert spans(made.events) == CONSENSUS
    assert spans(made.only_first) == [("child_smiles", 5.0, 6.0)]
    assert spans(made.only_second) == [
        ("caregiver_smiles", 5.2, 6.0),
        ("child_looks_away", 9.4, 9.8),
        ("child_smiles", 8.0, 8.6),
    ]
    first = made.events[0]
    assert (first.actor, first.status, first.source, first.annotator) == (
        "caregiver",
        "added",
        "consensus",
        "a@lab+b@lab",
    )


def test_consensus_pairs_are_the_agreement_s_matches() -> None:
    """Without the merge, there is one consensus event per pair that event agreement counts."""
    made = consensus(A, B, tolerance_s=1.0, min_gap_s=0.0)
    assert len(made.events) == compare(A, B, tolerance_s=1.0).overall.n_matched == 5
    assert spans(consensus(B, A, tolerance_s=1.0, min_gap_s=0.5).events) == CONSENSUS
    assert consensus(A, B, tolerance_s=0.5).events == [
        e for e in made.events if e.type != "child_reaches"
    ]


def test_pooled_agreement_matches_within_sessions_and_units_end_to_end() -> None:
    """Two 10 s sessions pooled, against the same codings laid end to end as one 20 s session.

    End to end, A's smile at 9.5 s and B's at 10.2 s (0.2 s into session 2) would be a pair; pooled,
    they are in different sessions and are not. Far from the boundary, kappa is the same.
    """
    one = (
        [*coded("a", "child_smiles", (1.0, 3.0), (9.5, 9.9)), *coded("a", "child_reaches", (2, 3))],
        [*coded("b", "child_smiles", (1.4, 3.4)), *coded("b", "child_reaches", (2.3, 3.0))],
        10.0,
    )
    two = (
        [*coded("a", "child_smiles", (5.0, 6.0)), *coded("a", "child_reaches", (4.0, 5.0))],
        [
            *coded("b", "child_smiles", (0.2, 0.8), (5.5, 6.0)),
            *coded("b", "child_reaches", (4, 4.6)),
        ],
        10.0,
    )
    pooled = compare_sessions([one, two], tolerance_s=1.0, time_unit_s=0.1)
    joined = compare(
        [*one[0], *(e.shifted(10.0) for e in two[0])],
        [*one[1], *(e.shifted(10.0) for e in two[1])],
        tolerance_s=1.0,
        duration_s=20.0,
    )
    smiles = pooled.per_type["child_smiles"]
    assert (smiles.n_reference, smiles.n_other, smiles.n_matched) == (3, 3, 2)
    assert joined.per_type["child_smiles"].n_matched == 3
    assert pooled.overall.n_matched == 4 and pooled.duration_s == 20.0
    assert pooled.per_type["child_reaches"] == joined.per_type["child_reaches"]
    assert pooled.kappa["child_reaches"] == pytest.approx(joined.kappa["child_reaches"])
    assert pooled.alpha["child_smiles"] == pytest.approx(joined.alpha["child_smiles"])
    single = compare(one[0], one[1], tolerance_s=1.0, duration_s=10.0)
    assert compare_sessions([one]).to_dict() == single.to_dict()


def test_cli_writes_the_consensus_and_refuses_to_overwrite_an_input(
    run_cli: RunCli, tmp_path: Path
) -> None:
    write_events(tmp_path / "a.csv", A)
    write_events(tmp_path / "b.csv", B)
    out = tmp_path / "agreed" / "consensus.csv"
    done = run_cli("consensus", tmp_path / "a.csv", tmp_path / "b.csv", "-o", out)
    assert "4 consensus events" in done.stdout and "left out 1 only in" in done.stdout
    assert spans(read_events(out)) == CONSENSUS  # the shipped manual's 0.5 s gap merges
    before = (tmp_path / "a.csv").read_bytes()
    bad = run_cli(
        "consensus", tmp_path / "a.csv", tmp_path / "b.csv", "-o", tmp_path / "a.csv", check=False
    )
    assert bad.returncode == 2 and "is one of the inputs" in bad.stderr
    assert "Traceback" not in bad.stderr and (tmp_path / "a.csv").read_bytes() == before
