"""The history database's tables (SQLAlchemy 2 ORM).

The schema is Alembic's (``hil/history/migrations``): a change here needs a new revision
there; tests/history/test_migrations.py fails when the two disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Run.status while a run writes; "completed" once it ended, "interrupted" when Robot was
#: stopped first (a signal). A run still "running" whose process is gone (SIGKILL) is
#: *shown* as interrupted (trends.py); the row is never rewritten.
RUNNING, COMPLETED, INTERRUPTED = "running", "completed", "interrupted"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Night(Base):
    """A night of runs (``hil nightly`` names it; a run without one gets its UTC date)."""

    __tablename__ = "night"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started: Mapped[datetime]

    runs: Mapped[list[Run]] = relationship(back_populates="night")


class Run(Base):
    """One Robot run on one bench: the DUT as configured and where its output went."""

    __tablename__ = "run"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    night_id: Mapped[str] = mapped_column(ForeignKey("night.id"), index=True)
    #: the lab's name (lab.name in the lab config): one bench
    bench: Mapped[str] = mapped_column(String(200), index=True)
    station_id: Mapped[str] = mapped_column(String(200), default="")
    vendor: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    firmware: Mapped[str] = mapped_column(String(200), default="")
    serial: Mapped[str] = mapped_column(String(200), default="")
    #: the hil-ocpp-lab version that ran it (a verdict change may be the lab's, not the DUT's)
    software_version: Mapped[str] = mapped_column(String(64), default="")
    #: the lab config file the run was given (its path when the run started)
    lab_config: Mapped[str] = mapped_column(Text, default="")
    #: a digest of that file's settings without ``dut.firmware`` and
    #: ``virtual.deviations`` (each has its own column): same digest, same lab set-up
    lab_config_digest: Mapped[str] = mapped_column(String(64), default="")
    #: the virtual station's deviations switched on (``virtual.deviations``), sorted
    deviations: Mapped[list[str]] = mapped_column(JSON, default=list)
    started: Mapped[datetime]
    ended: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)
    #: who wrote it, so a "running" run whose process is gone can be told apart
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    output_dir: Mapped[str] = mapped_column(Text, default="")
    report_path: Mapped[str] = mapped_column(Text, default="")

    night: Mapped[Night] = relationship(back_populates="runs")
    steps: Mapped[list[StepResult]] = relationship(back_populates="run")


class StepResult(Base):
    """One checklist step's outcome in one run (the listener's step record)."""

    __tablename__ = "step_result"
    __table_args__ = (Index("ix_step_result_run_step", "run_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("run.run_id"))
    step: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text, default="")
    #: Robot's PASS / FAIL / SKIP
    status: Mapped[str] = mapped_column(String(8))
    #: the report's Y / N / N/A / E (a lab error: never the station's N; hil.verdict)
    verdict: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text, default="")
    remarks: Mapped[list[str]] = mapped_column(JSON, default=list)
    started: Mapped[datetime | None]
    ended: Mapped[datetime | None]
    elapsed_s: Mapped[float | None] = mapped_column(Float)

    run: Mapped[Run] = relationship(back_populates="steps")
    energy: Mapped[list[EnergyFigure]] = relationship(back_populates="step_result")


class EnergyFigure(Base):
    """One energy source against the reference in one step (``energy`` evidence checks;
    ``eichrecht`` signed energy as source "signed (OCMF)")."""

    __tablename__ = "energy_figure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_result_id: Mapped[int] = mapped_column(ForeignKey("step_result.id"), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("run.run_id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    #: "energy" or "eichrecht": the evidence record it comes from
    kind: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(200))
    wh: Mapped[float | None] = mapped_column(Float)
    reference_wh: Mapped[float | None] = mapped_column(Float)
    diff_wh: Mapped[float | None] = mapped_column(Float)
    diff_percent: Mapped[float | None] = mapped_column(Float)
    allowed_wh: Mapped[float | None] = mapped_column(Float)
    ok: Mapped[bool | None]

    step_result: Mapped[StepResult] = relationship(back_populates="energy")
