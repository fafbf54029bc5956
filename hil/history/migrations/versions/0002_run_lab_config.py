"""What a run was given besides the firmware: the lab config file, a digest of its
settings and the deviations switched on, so the history can say what changed between two
runs and tell flakiness (same firmware, same lab config) from a change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # runs recorded before this revision: no lab config known ("" and [])
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("lab_config", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("lab_config_digest", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("deviations", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("run") as batch:
        batch.alter_column("lab_config", server_default=None)
        batch.alter_column("lab_config_digest", server_default=None)
        batch.alter_column("deviations", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.drop_column("deviations")
        batch.drop_column("lab_config_digest")
        batch.drop_column("lab_config")
