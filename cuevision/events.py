"""The events interchange format: one CSV that every command reading or writing events uses.

Columns ``actor,type,onset_s,offset_s`` are required; ``score,status,source,annotator,
model_version,id,candidate_id`` are optional. One row per event, times in seconds on the video's
PTS clock. Reading validates every row and names the row of the first problem.

Text cells are safe to open in a spreadsheet (OWASP's advice on CSV injection): a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after any single quotes, gets
one more leading single quote, so Excel or LibreOffice shows it as text instead of running it as a
formula. Reading takes that one quote off again, so every value reads back exactly as written.
Numbers (``onset_s``, ``offset_s``, ``score``) are never quoted: ``-1`` there is a number.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from cuevision.errors import CuevisionError
from cuevision.files import make_private_dir, write_text
from cuevision.types import ROLES, Event, Status

if TYPE_CHECKING:
    from cuevision.scheme import Scheme

REQUIRED = ("actor", "type", "onset_s", "offset_s")
FORMULA = re.compile(r"'*[=+\-@\t\r]")  # a spreadsheet would run the cell, quotes or not
COLUMNS = tuple(f.name for f in fields(Event))
STATUSES = get_args(Status)


class EventsError(CuevisionError):
    """An events file that cannot be used; the message names the file, the row and the fix."""


def _float(value: str, column: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise EventsError(f"{where}: {column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise EventsError(f"{where}: {column} {value!r} must be a finite number")
    return number


def _parse_row(row: dict[str, str], where: str, scheme: Scheme | None) -> Event:
    for column in REQUIRED:
        if not (row.get(column) or "").strip():
            raise EventsError(f"{where}: the required column {column!r} is empty")
    actor = row["actor"].strip()
    if actor not in ROLES:
        raise EventsError(f"{where}: actor {actor!r} must be one of {', '.join(ROLES)}")
    kind = row["type"].strip()
    if scheme is not None:
        known = scheme.event_type(kind)
        if known is None:
            raise EventsError(
                f"{where}: unknown event type {kind!r}; the scheme {scheme.name!r} knows "
                f"{', '.join(scheme.type_names)}. Fix the row or pass the right --scheme."
            )
        if known.actor != actor:
            raise EventsError(f"{where}: {kind!r} is a {known.actor} event, not a {actor} one")
    onset = _float(row["onset_s"], "onset_s", where)
    offset = _float(row["offset_s"], "offset_s", where)
    if onset < 0:
        raise EventsError(f"{where}: onset_s {onset} is negative; times start at 0 s")
    if offset < onset:
        raise EventsError(f"{where}: offset_s {offset} is before onset_s {onset}")
    score_text = (row.get("score") or "").strip()
    score = _float(score_text, "score", where) if score_text else None
    if score is not None and not 0.0 <= score <= 1.0:
        raise EventsError(f"{where}: score {score} must lie between 0 and 1")
    status = (row.get("status") or "").strip() or None
    if status is not None and status not in STATUSES:
        raise EventsError(f"{where}: status {status!r} must be one of {', '.join(STATUSES)}")

    def text(column: str) -> str | None:
        return (row.get(column) or "").strip() or None

    return Event(
        actor=actor,
        type=kind,
        onset_s=onset,
        offset_s=offset,
        score=score,
        status=status,  # type: ignore[arg-type]  # checked against STATUSES above
        source=text("source"),
        annotator=text("annotator"),
        model_version=text("model_version"),
        id=text("id"),
        candidate_id=text("candidate_id"),
    )


def read_events(path: Path, scheme: Scheme | None = None) -> list[Event]:
    """Read and validate an events CSV; with a scheme, types and actors are checked against it.

    A file with only a header is a session with no events and reads as an empty list.
    """
    path = Path(path)
    if not path.is_file():
        raise EventsError(f"{path}: no such events file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise EventsError(f"{path}: not a UTF-8 text file; expected an events CSV") from None
    if not text.strip():
        raise EventsError(
            f"{path}: the file is empty; an events CSV needs at least the header "
            f"{','.join(REQUIRED)}"
        )
    reader = csv.DictReader(io.StringIO(text, newline=""))  # keeps quoted line breaks
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise EventsError(
            f"{path}: missing column(s) {', '.join(missing)}; the header must start with "
            f"{','.join(REQUIRED)} (found {','.join(header) or 'nothing'})"
        )
    reader.fieldnames = header
    events = []
    for number, row in enumerate(reader, start=1):
        if None in row:
            raise EventsError(f"{path}, row {number} (line {number + 1}): more fields than columns")
        cells = {str(k): _uncell(v) for k, v in row.items()}
        events.append(_parse_row(cells, f"{path}, row {number} (line {number + 1})", scheme))
    return events


def format_events(events: Iterable[Event]) -> str:
    """Events as CSV text sorted by onset; optional columns empty in every row are left out."""
    rows = sorted(events, key=lambda e: (e.onset_s, e.actor, e.type, e.offset_s))
    used = [c for c in COLUMNS if c in REQUIRED or any(getattr(e, c) is not None for e in rows)]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(used)
    for event in rows:
        writer.writerow(_cell(getattr(event, c)) for c in used)
    return text.getvalue()


def write_events(path: Path, events: Iterable[Event]) -> None:
    """Write :func:`format_events` to ``path`` atomically, making its folder if needed."""
    path = Path(path)
    make_private_dir(path.parent)
    write_text(path, format_events(events))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(round(value, 4))
    return spreadsheet_text(str(value))


def spreadsheet_text(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula (see the module docstring)."""
    return f"'{text}" if FORMULA.match(text) else text


def _uncell(text: str | None) -> str:
    """Undo :func:`_cell`'s quote: ``'=x`` reads as ``=x`` and ``''=x`` as ``'=x``."""
    if text is None:  # a row with fewer fields than columns
        return ""
    stripped = text.lstrip()
    return stripped[1:] if stripped.startswith("'") and FORMULA.match(stripped[1:]) else text
