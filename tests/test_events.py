"""The events interchange format: round trip, and bad rows named with their fix."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cuevision.events import EventsError, read_events, write_events
from cuevision.scheme import load_scheme
from cuevision.types import Event


def test_round_trip_keeps_every_field_and_sorts_by_onset(tmp_path: Path) -> None:
    events = [
        Event(
            "caregiver",
            "caregiver_smiles",
            2.5,
            3.25,
            score=0.875,
            status="candidate",
            source="model",
            model_version="cue-tcn@0.1",
            id="c0002",
        ),
        Event(
            "child",
            "child_smiles",
            1.0,
            2.0,
            score=0.5,
            status="candidate",
            source="model",
            model_version="cue-tcn@0.1",
            id="c0001",
        ),
    ]
    path = tmp_path / "events.csv"
    write_events(path, events)
    assert (
        path.read_text().splitlines()[0]
        == "actor,type,onset_s,offset_s,score,status,source,model_version,id"
    )
    assert read_events(path, load_scheme()) == sorted(events, key=lambda e: e.onset_s)


def test_header_only_is_a_session_without_events(tmp_path: Path) -> None:
    path = tmp_path / "none.csv"
    path.write_text("actor,type,onset_s,offset_s\n")
    assert read_events(path) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "the file is empty"),
        ("who,what\nchild,x\n", "missing column"),
        (
            "actor,type,onset_s,offset_s\nchild,child_smiles,abc,2\n",
            r"row 1 \(line 2\): onset_s 'abc' is not a number",
        ),
        (
            "actor,type,onset_s,offset_s\nchild,child_smiles,1,2\nchild,child_sneezes,1,2\n",
            "row 2 .*unknown event type 'child_sneezes'",
        ),
        (
            "actor,type,onset_s,offset_s\ncaregiver,child_smiles,1,2\n",
            "is a child event, not a caregiver one",
        ),
        ("actor,type,onset_s,offset_s\nchild,child_smiles,-1,2\n", "negative"),
        (
            "actor,type,onset_s,offset_s\nchild,child_smiles,3,2\n",
            "offset_s 2.0 is before onset_s 3.0",
        ),
        (
            "actor,type,onset_s,offset_s\nbaby,child_smiles,1,2\n",
            "actor 'baby' must be one of caregiver, child",
        ),
        ("actor,type,onset_s,offset_s\nchild,child_smiles,1,2,9\n", "more fields than columns"),
        (
            "actor,type,onset_s,offset_s,score\nchild,child_smiles,1,2,7\n",
            "score 7.0 must lie between 0 and 1",
        ),
        ("actor,type,onset_s,offset_s\nchild,child_smiles,nan,2\n", "finite"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(EventsError, match=message):
        read_events(path, load_scheme())


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "video.csv"
    path.write_bytes(b"\x00\x9f\x92\x96" * 10)
    with pytest.raises(EventsError, match="not a UTF-8 text file"):
        read_events(path)


HOSTILE = (
    '=HYPERLINK("http://x","click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1",
    "-1",
    "'=already quoted",
    "''+twice",
    "'plain quote",
    'a=b, with "quotes"\nand a line break',
)


def test_formula_cells_are_quoted_and_read_back_exactly(tmp_path: Path) -> None:
    """OWASP CSV injection: no text cell starts a formula; numbers stay numbers; round trip."""
    events = [
        Event(
            "child",
            "child_smiles",
            float(i),
            i + 0.5,
            score=0.25,
            status="accepted",
            source=text,
            annotator=text,
            model_version=text,
            id=text,
            candidate_id=text,
        )
        for i, text in enumerate(HOSTILE)
    ]
    path = tmp_path / "confirmed.csv"
    write_events(path, events)
    rows = list(csv.DictReader(io.StringIO(path.read_text(), newline="")))
    text_columns = ("source", "annotator", "model_version", "id", "candidate_id")
    for row, original in zip(rows, HOSTILE, strict=True):
        for column in text_columns:
            assert row[column][0] not in "=+-@\t\r", (column, row[column])
            # exactly one quote is added, and only where a spreadsheet would see a formula
            expected = f"'{original}" if original.lstrip("'")[0] in "=+-@" else original
            assert row[column] == expected
        assert float(row["onset_s"]) >= 0 and row["score"] == "0.25"
    assert read_events(path, load_scheme()) == events


def test_a_negative_number_stays_a_number(tmp_path: Path) -> None:
    """``-1`` in a numeric column is a (refused) number, not text that lost a quote."""
    path = tmp_path / "events.csv"
    path.write_text("actor,type,onset_s,offset_s\nchild,child_smiles,-1,2\n")
    with pytest.raises(EventsError, match="onset_s -1.0 is negative"):
        read_events(path)
    path.write_text("actor,type,onset_s,offset_s,annotator\nchild,child_smiles,1,2,'-1\n")
    assert read_events(path)[0].annotator == "-1"
