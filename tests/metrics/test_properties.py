"""Property tests: invariants the latency and contingency definitions must keep for any input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuevision.metrics.contingency import contingency_table
from cuevision.metrics.latency import response_latency
from cuevision.types import Event

WINDOW = 3.0


@st.composite
def answered_sessions(draw: st.DrawFn) -> tuple[list[Event], list[Event]]:
    """Cues 10 s apart, each followed by 0-2 responses within 0-2.5 s (none before a cue)."""
    n = draw(st.integers(1, 12))
    offsets = st.floats(0.0, 2.5, allow_nan=False).map(lambda v: round(v, 3))
    cues, responses = [], []
    for i in range(n):
        onset = 1.0 + 10.0 * i
        cues.append(Event("child", "child_smiles", onset, onset + 1.0))
        for delay in draw(st.lists(offsets, max_size=2)):
            responses.append(Event("caregiver", "caregiver_smiles", onset + delay, onset + delay))
    return cues, responses


@settings(max_examples=60, deadline=None)
@given(session=answered_sessions(), delta=st.floats(0.0, 0.5).map(lambda v: round(v, 3)))
def test_delaying_every_response_adds_delta_to_each_answered_latency(
    session: tuple[list[Event], list[Event]], delta: float
) -> None:
    cues, responses = session
    before = response_latency(cues, responses, WINDOW).latencies_s
    after = response_latency(cues, [r.shifted(delta) for r in responses], WINDOW).latencies_s
    assert [a is None for a in after] == [b is None for b in before]
    for b, a in zip(before, after, strict=True):
        if b is not None:
            assert a == pytest.approx(b + delta, abs=1e-6)


@settings(max_examples=10, deadline=None)
@given(
    n_cues=st.integers(20, 40),
    n_random=st.integers(30, 60),
    answered=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_circularly_shuffled_streams_give_q_near_zero_on_average(
    n_cues: int, n_random: int, answered: float, seed: int
) -> None:
    """Cues at random times in a 300 s session; a share ``answered`` of them get a response
    0-3 s later, plus ``n_random`` responses at random times. However contingent the caregiver,
    shifting the response stream to random places around the session breaks its timing with the
    cues: Q averages out near 0."""
    rng = np.random.default_rng(seed)
    cue_times = rng.uniform(0, 297.0, n_cues)
    echoed = cue_times[rng.random(n_cues) < answered]
    response_times = np.concatenate(
        [echoed + rng.uniform(0, WINDOW, echoed.size), rng.uniform(0, 300.0, n_random)]
    )
    cues = [Event("child", "child_smiles", t, t) for t in cue_times]
    qs = []
    for shift in rng.uniform(0, 300.0, size=100):
        moved = [
            Event("caregiver", "caregiver_smiles", (t + shift) % 300.0, (t + shift) % 300.0)
            for t in response_times
        ]
        table = contingency_table(cues, moved, window_s=WINDOW, duration_s=300.0, permutations=0)
        qs.append(table.yules_q if table.yules_q is not None else 0.0)
    assert abs(np.mean(qs)) < 0.15
