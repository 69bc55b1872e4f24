"""Conversational turns (LENA's rule), vocalisations from the voice columns, and the voices of
a session, on hand-made sequences and on the real hand-coded ELAN file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cuevision.features import FEATURE_NAMES
from cuevision.interop.elan import read_eaf
from cuevision.metrics.turns import conversational_turns, vocal_events, voices_of
from cuevision.types import Event, FeatureSeries, Role

FPS = 15.0


def seq(*parts: tuple[str, float, float]) -> list[Event]:
    role: dict[str, Role] = {"C": "child", "A": "caregiver"}
    return [Event(role[who], "v", on, off) for who, on, off in parts]


@pytest.mark.parametrize(
    ("events", "n_turns", "by_child"),
    [
        (seq(("C", 0, 1), ("A", 2, 3)), 1, 1),  # child-adult: 1
        (seq(("A", 0, 1), ("C", 2, 3)), 1, 0),  # adult-child: 1, started by the adult
        (seq(("C", 0, 1), ("A", 2, 3), ("C", 4, 5)), 1, 1),  # child-adult-child: still 1
        (seq(("C", 0, 1), ("A", 2, 3), ("C", 4, 5), ("A", 6, 7)), 2, 2),  # pairs only: 2
        (seq(("C", 0, 1), ("A", 6.0, 7)), 0, 0),  # a pause of 5 s ends the conversation
        (seq(("C", 0, 1), ("A", 5.99, 7)), 1, 1),  # just under 5 s is a turn
        (seq(("C", 0, 1), ("C", 2, 3), ("A", 4, 5)), 1, 1),  # the child's last answered
        (seq(("C", 0, 1), ("C", 7, 8), ("A", 8.5, 9)), 1, 1),  # the pause reset, then a turn
        (seq(("C", 0, 2), ("A", 1.5, 3)), 1, 1),  # hand codes may overlap: still a reply
        ([], 0, 0),
    ],
)
def test_lena_turns_count_pairs(events: list[Event], n_turns: int, by_child: int) -> None:
    turns = conversational_turns(events, duration_s=30.0)
    assert turns.n_turns == n_turns
    assert turns.initiated_by == {"child": by_child, "caregiver": n_turns - by_child}
    assert turns.per_minute == pytest.approx(2.0 * n_turns)


# The CHI and FA1 tiers of the ELAN file, onsets before 35 s, in ms, sorted by onset, and the
# count worked by hand: each vocalisation answers the last unpaired one of the other speaker if
# it starts less than 5 s after that one ends, or else becomes the new unpaired one.
HAND_WORKED = """
C 3150 3332     unpaired
C 4409 5699     unpaired (replaces the child's last)
C 6320 8775     unpaired
A 9243 10504    9.243 - 8.775 = 0.47 s: turn 1, child started
C 9920 10480    unpaired
C 10780 12440   unpaired
A 12550 12900   0.11 s: turn 2, child
C 12822 13160   unpaired
C 13393 13811   unpaired
C 14238 14711   unpaired
A 15342 15810   0.63 s: turn 3, child
A 15961 16781   unpaired
C 17600 17960   0.82 s: turn 4, caregiver started
C 18220 19299   unpaired
C 19975 21202   unpaired
C 22002 22728   unpaired
C 23371 23567   unpaired
A 26260 26922   2.69 s: turn 5, child
C 27174 28977   unpaired
A 29301 30660   0.32 s: turn 6, child
C 29940 30150   unpaired
C 30481 33191   unpaired
A 33113 34260   starts before the child ends (-0.08 s): turn 7, child
"""


@pytest.fixture(scope="module")
def elan_events(shared_data: Path) -> list[Event]:
    path = shared_data / "elan" / "example.eaf"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    mapping = {
        "CHI": {"actor": "child", "type": "child_vocalises"},
        "FA1": {"actor": "caregiver", "type": "caregiver_vocalises"},
    }
    return read_eaf(path, mapping)


def test_turns_from_the_elan_tiers_equal_the_count_worked_by_hand(
    elan_events: list[Event],
) -> None:
    window = [e for e in elan_events if e.onset_s < 35.0]
    rows = [line.split()[:3] for line in HAND_WORKED.strip().splitlines()]
    listed = sorted((("child" if w == "C" else "caregiver"), int(a), int(b)) for w, a, b in rows)
    found = sorted((e.actor, round(e.onset_s * 1000), round(e.offset_s * 1000)) for e in window)
    assert found == listed  # the hand-worked table is the file's own codes
    turns = conversational_turns(window, duration_s=35.0)
    assert turns.n_turns == 7
    assert turns.initiated_by == {"child": 6, "caregiver": 1}
    assert turns.turn_onsets_s[3] == pytest.approx(15.961)  # the caregiver's turn
    whole = conversational_turns(elan_events, duration_s=300.0)
    assert 0 < whole.n_turns <= min(134, 91)  # each turn pairs one CHI and one FA1 code


def series(child: np.ndarray, caregiver: np.ndarray, present: bool = True) -> FeatureSeries:
    n = len(child)
    values = np.full((n, len(FEATURE_NAMES)), np.nan, np.float32)
    columns = {
        "voice.present": np.full(n, float(present)),
        "voice.vocal": np.maximum(child, caregiver),
        "voice.child_vocalising": child,
        "voice.caregiver_vocalising": caregiver,
        "voice.mouth_evidence": np.where(np.arange(n) < n // 2, 2.0, 0.0),
    }
    for name, column in columns.items():
        values[:, FEATURE_NAMES.index(name)] = column
    return FeatureSeries(np.arange(n) / FPS, FPS, FEATURE_NAMES, values)


def bumps(n: int, *spans: tuple[float, float]) -> np.ndarray:
    t = np.arange(n) / FPS
    return np.array(sum(((t >= a) & (t < b)).astype(float) for a, b in spans) * 0.9)


def test_vocalisations_from_the_columns_merge_short_gaps_and_drop_blips() -> None:
    n = int(20 * FPS)
    child = bumps(n, (1.0, 2.0), (2.2, 3.0), (10.0, 10.1))  # a 0.2 s gap: one vocalisation
    caregiver = bumps(n, (3.5, 4.5), (8.0, 9.0))
    found = vocal_events(series(child, caregiver))
    assert [(e.actor, e.type) for e in found] == [
        ("child", "child_vocalises"),
        ("caregiver", "caregiver_vocalises"),
        ("caregiver", "caregiver_vocalises"),
    ]  # the child's 0.1 s blip is dropped
    half = 0.5 / FPS
    assert found[0].onset_s == pytest.approx(1.0, abs=half + 1e-6)
    assert found[0].offset_s == pytest.approx(3.0, abs=half + 1e-6)
    assert found[1].onset_s == pytest.approx(3.5, abs=half + 1e-6)


def test_voices_of_a_session() -> None:
    n = int(20 * FPS)
    child = bumps(n, (1.0, 2.0), (12.0, 13.0))
    caregiver = bumps(n, (2.5, 3.5), (16.0, 17.0))
    voices = voices_of(series(child, caregiver), duration_s=20.0)
    data = voices.to_dict()
    assert data["audio"] == "present"
    assert data["turns"]["n_turns"] == 2 and data["turns"]["initiated_by"]["child"] == 2
    replies = data["caregiver_replies"]
    assert replies["n_cues"] == 2 and replies["n_responded"] == 1  # 16 s is 4 s after 12 s
    assert replies["latencies_s"][0] == pytest.approx(1.5, abs=0.1)
    who = data["coverage"]["who_from"]
    assert who["both_faces"] == pytest.approx(0.5, abs=0.01)
    assert who["pitch_only"] == pytest.approx(0.5, abs=0.01)
    absent = voices_of(series(child * 0, caregiver * 0, present=False), duration_s=20.0)
    assert absent.to_dict() == {"audio": "absent"}
