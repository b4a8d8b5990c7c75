"""Job results that are not a plan: ``jobs.result_json`` (what-ifs and sweeps).

A what-if job stores its two plan ids, the comparison and how it was solved; a sweep job
stores the target–cost curve. Plan jobs leave it empty (the plan has its own table).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable column (no rewrite of existing rows)."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("result_json", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("result_json")
