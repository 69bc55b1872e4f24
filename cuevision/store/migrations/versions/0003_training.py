"""Training requests become training jobs: study, requester, base, state, lease, result

Rows recorded before this revision (Label Studio's START_TRAINING, which nothing acted on) are
marked failed with the way to ask again, so an upgrade never starts a training by surprise.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EARLIER = (
    "recorded before training ran as a job (migration 0003); ask again: "
    "POST /v1/models/train or Label Studio's Start Training"
)


def upgrade() -> None:
    with op.batch_alter_table("training_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("study_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("requested_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("base", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("progress_done", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("progress_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("model", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("snapshot", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    jobs = sa.table(
        "training_requests",
        sa.column("received_at", sa.DateTime(timezone=True)),
        sa.column("options", sa.JSON()),
        sa.column("state", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("not_before", sa.Float()),
        sa.column("progress_done", sa.Integer()),
        sa.column("progress_total", sa.Integer()),
        sa.column("error", sa.Text()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        jobs.update().values(
            options={},
            state="failed",
            attempts=0,
            not_before=0.0,
            progress_done=0,
            progress_total=0,
            error=EARLIER,
            updated_at=jobs.c.received_at,
        )
    )
    with op.batch_alter_table("training_requests", schema=None) as batch_op:
        for name in (
            "options",
            "state",
            "attempts",
            "not_before",
            "progress_done",
            "progress_total",
            "updated_at",
        ):
            batch_op.alter_column(name, nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_training_requests_study_id_studies"),
            "studies",
            ["study_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_training_requests_requested_by_users"),
            "users",
            ["requested_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_training_requests_study_id"), ["study_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_training_requests_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_requests_state"))
        batch_op.drop_index(batch_op.f("ix_training_requests_study_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_training_requests_requested_by_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_training_requests_study_id_studies"), type_="foreignkey"
        )
        for name in (
            "updated_at",
            "finished_at",
            "started_at",
            "snapshot",
            "model",
            "error",
            "progress_total",
            "progress_done",
            "not_before",
            "lease_expires_at",
            "lease_owner",
            "attempts",
            "state",
            "options",
            "base",
            "requested_by",
            "study_id",
        ):
            batch_op.drop_column(name)
