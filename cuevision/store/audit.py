"""The append-only audit log: who did what to which session, and when.

Rows are only ever added here; the database refuses UPDATE and DELETE on the table (triggers made
by the first migration), and no API route writes it except through :func:`record`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session as Db

from cuevision.store.models import AuditEntry


def record(
    db: Db,
    user_id: int | None,
    action: str,
    *,
    study_id: int | None = None,
    session_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one row in the caller's transaction, so the action and its record commit together."""
    db.add(
        AuditEntry(
            user_id=user_id,
            action=action,
            study_id=study_id,
            session_id=session_id,
            detail=detail or {},
        )
    )
