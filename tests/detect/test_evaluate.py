"""``cuevision evaluate`` on a hand-worked example, and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cuevision.events import write_events
from cuevision.scheme import load_scheme
from cuevision.types import Event
from tests.conftest import RunCli

STEP_S = 0.2  # one character of the drawing
# Each ``x`` is an event onset (events last 0.4 s). Time 0 is the first ``|`` of the ruler.
DRAWING = """
 time (s)               0    1    2    3    4    5    6    7    8    9    10   11   12
                        |....|....|....|....|....|....|....|....|....|....|....|....|
 truth child_smiles          x                   x                   x
 pred  child_smiles            x                     x x                            x
 truth caregiver_smiles           x
 pred  caregiver_smiles                  x
 pred  child_looks_away                                    x
 truth child_reaches                                                      x    x
 pred  child_reaches                                                          x    x
"""


def drawn(which: str) -> list[Event]:
    lines = DRAWING.strip("\n").splitlines()
    zero = lines[1].index("|")
    scheme = load_scheme()
    events = []
    for line in lines[2:]:
        side, name = line.split()[:2]
        if side != which:
            continue
        event_type = scheme.event_type(name)
        assert event_type is not None
        for column, char in enumerate(line):
            if char == "x":
                onset = round((column - zero) * STEP_S, 3)
                events.append(Event(event_type.actor, name, onset, onset + 0.4))
    return events


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("evaluate")
    write_events(folder / "pred.csv", drawn("pred"))
    write_events(folder / "truth.csv", drawn("truth"))
    return folder / "pred.csv", folder / "truth.csv"


def test_the_drawing_reads_as_intended() -> None:
    assert [e.onset_s for e in drawn("truth") if e.type == "child_reaches"] == [10.0, 11.0]
    assert [e.onset_s for e in drawn("pred") if e.type == "child_smiles"] == [1.4, 5.8, 6.2, 12.0]
    assert [e.onset_s for e in drawn("pred") if e.type == "child_reaches"] == [10.8, 11.8]
    assert [(e.type, e.onset_s) for e in drawn("pred") if e.actor == "caregiver"] == [
        ("caregiver_smiles", 3.4)
    ]
    assert [e.onset_s for e in drawn("pred") if e.type == "child_looks_away"] == [7.0]


def test_hand_worked_example(files: tuple[Path, Path], run_cli: RunCli) -> None:
    """Worked by hand, tolerance 1 s:

    - child_smiles: 1.0-1.4 (0.4 s) and 5.0-5.8 (0.8 s) match; 6.2 is 1.2 s from 5.0 and 5.0 is
      taken anyway; 9.0 and 12.0 are unmatched. 2 of 3 truth, 2 of 4 pred: F1 = 4/7.
    - caregiver_smiles: 3.4 is 1.4 s after 2.0: no match. F1 = 0.
    - child_looks_away: a prediction with no truth of its type: precision 0, recall undefined.
    - child_reaches: greedy nearest matching would pair 10.8 with 11.0 (0.2 s) and leave 11.8
      alone (1.8 s from 10.0); the optimal assignment pairs 10.0-10.8 and 11.0-11.8: 2 matches.
    - overall: 4 matched of 6 truth and 8 pred; F1 = 8/14; mean onset error (0.4 + 0.8 + 0.8 +
      0.8) / 4 = 0.7 s.
    """
    pred, truth = files
    result = json.loads(run_cli("evaluate", pred, truth, "--tolerance", "1.0", "--json").stdout)
    per_type = result["per_type"]
    smiles = per_type["child_smiles"]
    assert (smiles["n_reference"], smiles["n_other"], smiles["n_matched"]) == (3, 4, 2)
    assert smiles["precision"] == pytest.approx(0.5)
    assert smiles["recall"] == pytest.approx(2 / 3)
    assert smiles["f1"] == pytest.approx(4 / 7)
    assert smiles["mean_onset_error_s"] == pytest.approx(0.6)
    assert per_type["caregiver_smiles"]["f1"] == 0
    assert per_type["caregiver_smiles"]["mean_onset_error_s"] is None
    away = per_type["child_looks_away"]
    assert (away["precision"], away["recall"]) == (0, None)
    assert per_type["child_reaches"]["n_matched"] == 2
    assert per_type["child_reaches"]["mean_onset_error_s"] == pytest.approx(0.8)
    overall = result["overall"]
    assert (overall["n_reference"], overall["n_other"], overall["n_matched"]) == (6, 8, 4)
    assert overall["f1"] == pytest.approx(8 / 14)
    assert overall["mean_onset_error_s"] == pytest.approx(0.7)


def test_tolerance_changes_the_matching(files: tuple[Path, Path], run_cli: RunCli) -> None:
    pred, truth = files
    wide = json.loads(run_cli("evaluate", pred, truth, "--tolerance", "1.5", "--json").stdout)
    assert wide["per_type"]["caregiver_smiles"]["n_matched"] == 1  # 1.4 s apart


def test_table_output(files: tuple[Path, Path], run_cli: RunCli) -> None:
    out = run_cli("evaluate", *files).stdout
    assert "child_reaches" in out and "overall" in out and "0.57" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("actor,type\nchild,child_smiles\n", "missing column"),
        ("actor,type,onset_s,offset_s\nchild,child_smiles,soon,2\n", "not a number"),
        ("actor,type,onset_s,offset_s\nchild,child_grins,1,2\n", "unknown event type"),
        ("actor,type,onset_s,offset_s\nchild,child_smiles,3,2\n", "before onset"),
        (b"\xff\xfe\x00\x81binary", "not a UTF-8 text file"),
    ],
)
def test_malformed_csv_exits_2(
    tmp_path: Path,
    files: tuple[Path, Path],
    run_cli: RunCli,
    content: str | bytes,
    message: str,
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run_cli("evaluate", bad, files[1], check=False)
    assert result.returncode == 2, result.stderr
    said = " ".join(result.stderr.split())  # rich wraps long lines
    assert message in said and "Traceback" not in said


def test_missing_file_and_bad_tolerance_exit_2(
    tmp_path: Path, files: tuple[Path, Path], run_cli: RunCli
) -> None:
    missing = run_cli("evaluate", tmp_path / "nope.csv", files[1], check=False)
    assert missing.returncode == 2 and "no such events file" in " ".join(missing.stderr.split())
    negative = run_cli("evaluate", *files, "--tolerance", "-1", check=False)
    assert negative.returncode == 2 and "--tolerance" in negative.stderr
