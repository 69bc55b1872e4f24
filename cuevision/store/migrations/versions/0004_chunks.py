"""Chunk runs: the time chunks of a session's landmark stage under the Celery runner

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chunk_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("not_before", sa.Float(), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_chunk_runs_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunk_runs")),
        sa.UniqueConstraint("session_id", "index", name=op.f("uq_chunk_runs_session_id")),
    )
    with op.batch_alter_table("chunk_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chunk_runs_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chunk_runs_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chunk_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chunk_runs_state"))
        batch_op.drop_index(batch_op.f("ix_chunk_runs_session_id"))
    op.drop_table("chunk_runs")
