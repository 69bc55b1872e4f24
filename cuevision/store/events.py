"""A session's candidate or confirmed events as rows, replaced as a whole set."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session as Db

from cuevision.store.models import EventRow
from cuevision.types import Event


def replace_events(db: Db, session_id: str, basis: str, events: Iterable[Event]) -> None:
    """Swap the session's rows of ``basis`` for ``events`` in the caller's transaction.

    Rows are numbered by their place in the stage's output (``seq``, unique with the session and
    basis), so writing the same output twice, as a retried job does, never duplicates a row.
    """
    db.execute(delete(EventRow).where(EventRow.session_id == session_id, EventRow.basis == basis))
    db.add_all(
        EventRow(
            session_id=session_id,
            basis=basis,
            seq=seq,
            actor=event.actor,
            type=event.type,
            onset_s=event.onset_s,
            offset_s=event.offset_s,
            score=event.score,
            model_version=event.model_version,
        )
        for seq, event in enumerate(events)
    )
