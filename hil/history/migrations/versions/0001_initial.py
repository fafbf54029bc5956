"""The first history schema: nights, runs, step results, energy figures.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "night",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "run",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("night_id", sa.String(64), nullable=False),
        sa.Column("bench", sa.String(200), nullable=False),
        sa.Column("station_id", sa.String(200), nullable=False),
        sa.Column("vendor", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("firmware", sa.String(200), nullable=False),
        sa.Column("serial", sa.String(200), nullable=False),
        sa.Column("software_version", sa.String(64), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("output_dir", sa.Text(), nullable=False),
        sa.Column("report_path", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["night_id"], ["night.id"]),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_run_night_id", "run", ["night_id"])
    op.create_index("ix_run_bench", "run", ["bench"])
    op.create_table(
        "step_result",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remarks", sa.JSON(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["run.run_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_step_result_run_step", "step_result", ["run_id", "step"])
    op.create_table(
        "energy_figure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("step_result_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("wh", sa.Float(), nullable=True),
        sa.Column("reference_wh", sa.Float(), nullable=True),
        sa.Column("diff_wh", sa.Float(), nullable=True),
        sa.Column("diff_percent", sa.Float(), nullable=True),
        sa.Column("allowed_wh", sa.Float(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["step_result_id"], ["step_result.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["run.run_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_energy_figure_step_result_id", "energy_figure", ["step_result_id"])
    op.create_index("ix_energy_figure_run_id", "energy_figure", ["run_id"])


def downgrade() -> None:
    op.drop_table("energy_figure")
    op.drop_table("step_result")
    op.drop_table("run")
    op.drop_table("night")
