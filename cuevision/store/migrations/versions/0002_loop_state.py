"""The Label Studio loop's state in the store: registered OUTDIRs, training requests, and a
session's Label Studio state

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labelstudio", sa.JSON(), nullable=True))
    op.create_table(
        "registered_outdirs",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("outdir", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_registered_outdirs")),
    )
    op.create_table(
        "training_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_requests")),
    )


def downgrade() -> None:
    op.drop_table("training_requests")
    op.drop_table("registered_outdirs")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("labelstudio")
