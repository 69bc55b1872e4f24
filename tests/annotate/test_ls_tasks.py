"""Pure adapters: candidates -> prediction JSON, annotation + parent prediction -> events.

Proxy at 10 fps, 100 frames (10 s)::

    time (s)   0    1    2    3    4    5    6    7    8    9    10
    a (cue)         [====)                                         child_smiles      0.9  accepted
    b (resp)             [====)                                    caregiver_smiles  0.7  end +1 s
    c (cue)                        [====)                          child_looks_away  0.4  deleted
    d (cue)                             [====)                     child_reaches     0.6  relabelled
    added                                          [==)            child_distress         added
"""

from __future__ import annotations

import copy

import pytest

from cuevision.annotate.clock import ProxyClock
from cuevision.annotate.tasks import (
    AnnotationError,
    model_version_of,
    prediction,
    reconcile,
    task_data,
)
from cuevision.scheme import load_scheme
from cuevision.types import Event

CLOCK = ProxyClock(10.0, 100)
SCHEME = load_scheme()
CANDIDATES = [
    Event("child", "child_smiles", 1.0, 2.0, 0.9, "candidate", "model", None, "m1", "a"),
    Event("caregiver", "caregiver_smiles", 2.0, 3.0, 0.7, "candidate", "model", None, "m1", "b"),
    Event("child", "child_looks_away", 4.0, 5.0, 0.4, "candidate", "model", None, "m1", "c"),
    Event("child", "child_reaches", 5.0, 6.0, 0.6, "candidate", "model", None, "m1", "d"),
]


def test_prediction_carries_version_region_scores_and_overall_score() -> None:
    made = prediction(CANDIDATES, CLOCK, "m1")
    assert made["model_version"] == "m1"
    assert made["score"] == pytest.approx((0.9 + 0.7 + 0.4 + 0.6) / 4)
    first = made["result"][0]
    assert first == {
        "id": "a",
        "from_name": "events",
        "to_name": "video",
        "type": "timelinelabels",
        "value": {"ranges": [{"start": 11, "end": 20}], "timelinelabels": ["child_smiles"]},
        "score": 0.9,
    }
    assert [r["score"] for r in made["result"]] == [0.9, 0.7, 0.4, 0.6]


def test_reconcile_finds_accepted_edited_rejected_and_added() -> None:
    parent = prediction(CANDIDATES, CLOCK, "m1")["result"]
    result = copy.deepcopy(parent)
    result[1]["value"]["ranges"][0]["end"] += 10  # b: offset 1 s later
    result[3]["value"]["timelinelabels"] = ["child_smiles"]  # d: another label
    del result[2]  # c: deleted
    for region in result:
        region["origin"] = "prediction"  # Label Studio keeps this even after an edit
    result.append(
        {
            "id": "Xy7",
            "from_name": "events",
            "to_name": "video",
            "type": "timelinelabels",
            "origin": "manual",
            "value": {"ranges": [{"start": 71, "end": 78}], "timelinelabels": ["child_distress"]},
        }
    )
    found = reconcile(
        result, parent, clock=CLOCK, scheme=SCHEME, annotator="ann@x.org", model_version="m1"
    )
    rows = [
        (e.id, e.type, e.onset_s, e.offset_s, e.status, e.candidate_id, e.source)
        for e in found.confirmed
    ]
    assert rows == [
        ("a", "child_smiles", 1.0, 2.0, "accepted", "a", "model"),
        ("b", "caregiver_smiles", 2.0, 4.0, "edited", "b", "model"),
        ("d", "child_smiles", 5.0, 6.0, "edited", "d", "model"),
        ("Xy7", "child_distress", 7.0, 7.8, "added", None, "annotator"),
    ]
    assert {e.annotator for e in found.confirmed} == {"ann@x.org"}
    assert [e.model_version for e in found.confirmed] == ["m1", "m1", "m1", None]
    assert [(e.id, e.status, e.candidate_id) for e in found.rejected] == [("c", "rejected", "c")]


def test_unknown_label_and_broken_region_are_named() -> None:
    parent = prediction(CANDIDATES[:1], CLOCK, "m1")["result"]
    bad = copy.deepcopy(parent)
    bad[0]["value"]["timelinelabels"] = ["dances"]
    with pytest.raises(AnnotationError, match="'dances'"):
        reconcile(bad, parent, clock=CLOCK, scheme=SCHEME, annotator=None, model_version=None)
    bad[0]["value"] = {"ranges": [], "timelinelabels": ["child_smiles"]}
    with pytest.raises(AnnotationError, match="frame range"):
        reconcile(bad, parent, clock=CLOCK, scheme=SCHEME, annotator=None, model_version=None)


def test_model_version_and_ids() -> None:
    assert model_version_of(CANDIDATES) == "m1"
    assert model_version_of([]) == "unknown"
    mixed = [*CANDIDATES, Event("child", "child_smiles", 8, 9, 0.5, model_version="m2", id="e")]
    with pytest.raises(AnnotationError, match="several model versions"):
        model_version_of(mixed)
    with pytest.raises(AnnotationError, match="no id"):
        prediction([Event("child", "child_smiles", 1, 2)], CLOCK, "m1")
    assert task_data("s1", "http://x/v", 10.0, "t")["session"] == "s1"
