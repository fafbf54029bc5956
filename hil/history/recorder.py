"""Writing one run into the history database, step by step, as the run goes: the API
``hil/robot/history_hook.py`` calls (``open``, ``step``, ``end``).

Every step is its own transaction, committed when the step ends, so a run that is killed
halfway keeps every finished step; the run row stays "running" and is shown interrupted.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import json
import os
import socket
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import COMPLETED, INTERRUPTED, RUNNING, EnergyFigure, Night, Run, StepResult
from hil.verdict import record_verdict

REPORT_FILE = "certification-report.html"
#: the ``source`` of an Eichrecht signed-energy figure
SIGNED_SOURCE = "signed (OCMF)"


@functools.cache
def software_version() -> str:
    """hil-ocpp-lab's version, with the commit when the lab runs from a git checkout (a
    lab PC runs an editable install: its version number stays while the code changes),
    ``.dirty`` when that checkout has uncommitted changes: "0.1.0+g52e9398"."""
    try:
        version = importlib.metadata.version("hil-ocpp-lab")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    commit = _git_commit(Path(__file__).resolve().parents[2])
    return f"{version}+g{commit}"[:64] if commit else version


def _git_commit(root: Path) -> str:
    if not (root / ".git").exists():
        return ""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty=.dirty", "--abbrev=9"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    text = done.stdout.strip()
    return text.rsplit("-g", 1)[-1] if done.returncode == 0 and text else ""


#: settings of a lab config that have their own columns, left out of its digest
_OWN_COLUMNS = (("dut", "firmware"), ("virtual", "deviations"))


def lab_identity(facts: dict[str, Any]) -> tuple[str, str, list[str]]:
    """The run's lab config file, the digest of its settings (without the firmware and the
    deviations, which are compared on their own) and its deviations, read from the file
    the run marker names; ("", "", []) when it cannot be read. Facts that already carry
    ``lab_config_digest`` / ``deviations`` win."""
    path = str(facts.get("lab_config") or "")
    digest, deviations = "", []
    raw: Any = None
    if path:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            raw = None
    if isinstance(raw, dict):
        virtual = raw.get("virtual") if isinstance(raw.get("virtual"), dict) else {}
        deviations = sorted(str(d) for d in virtual.get("deviations") or [])
        settings = json.loads(json.dumps(raw, default=str))
        for section, key in _OWN_COLUMNS:
            if isinstance(settings.get(section), dict):
                settings[section].pop(key, None)
        canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    digest = str(facts.get("lab_config_digest") or digest)
    if isinstance(facts.get("deviations"), list):
        deviations = sorted(str(d) for d in facts["deviations"])
    return path, digest, deviations


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from the lab's records as an aware UTC datetime (None if absent)."""
    if not value:
        return None
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def energy_figures(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures of a step's evidence: every ``energy`` check, and the ``eichrecht``
    signed energy against its reference (diff computed here; the record has none)."""
    figures: list[dict[str, Any]] = []
    for rec in evidence:
        tx = str(rec.get("transaction_id") or "")
        if rec.get("kind") == "energy":
            for c in rec.get("checks") or []:
                figures.append(
                    {
                        "kind": "energy",
                        "transaction_id": tx,
                        "source": str(c.get("source") or ""),
                        "wh": _float(c.get("wh")),
                        "reference_wh": _float(c.get("reference_wh")),
                        "diff_wh": _float(c.get("diff_wh")),
                        "diff_percent": _float(c.get("diff_percent")),
                        "allowed_wh": _float(c.get("allowed_wh")),
                        "ok": None if c.get("ok") is None else bool(c.get("ok")),
                    }
                )
        elif rec.get("kind") == "eichrecht":
            wh, ref = _float(rec.get("signed_energy_wh")), _float(rec.get("reference_wh"))
            diff = None if wh is None or ref is None else wh - ref
            pct = None if diff is None or not ref else 100.0 * diff / ref
            allowed = _allowed(ref, rec)
            figures.append(
                {
                    "kind": "eichrecht",
                    "transaction_id": tx,
                    "source": SIGNED_SOURCE,
                    "wh": wh,
                    "reference_wh": ref,
                    "diff_wh": diff,
                    "diff_percent": pct,
                    "allowed_wh": allowed,
                    "ok": None if diff is None or allowed is None else abs(diff) <= allowed,
                }
            )
    return figures


def _allowed(ref: float | None, rec: dict[str, Any]) -> float | None:
    """The Eichrecht tolerance in Wh: percent of the reference plus the fixed Wh."""
    pct, fixed = _float(rec.get("tolerance_percent")), _float(rec.get("tolerance_wh"))
    if ref is None or (pct is None and fixed is None):
        return None
    return abs(ref) * (pct or 0.0) / 100.0 + (fixed or 0.0)


def _ensure_night(session: Session, night_id: str, started: datetime) -> None:
    """The night's row, inserted by whichever bench comes first: benches of one night start
    together, and on PostgreSQL "look, then insert" races (two inserts, one unique
    violation); an insert that ignores the conflict does not."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
        session.execute(
            insert(Night)
            .values(id=night_id, started=started)
            .on_conflict_do_nothing(index_elements=["id"])
        )
    elif session.get(Night, night_id) is None:
        session.add(Night(id=night_id, started=started))
        session.flush()


class HistoryRecorder:
    """One run's rows. Create it with :meth:`open`."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        self.engine = engine
        self.run_id = run_id

    @classmethod
    def open(cls, url: str, facts: dict[str, Any], night: str, output_dir: Path) -> HistoryRecorder:
        """Upgrade the schema to head and insert the run as "running". ``facts`` are
        hil-run.json's; ``night`` "" is today's UTC date."""
        return cls.insert(open_engine(url, write=True), facts, night, output_dir)

    @classmethod
    def insert(
        cls, engine: Engine, facts: dict[str, Any], night: str, output_dir: Path
    ) -> HistoryRecorder:
        """The run's row, "running", in a history database already at head."""
        started = parse_time(facts.get("started")) or utc_now()
        night_id = night or utc_now().date().isoformat()
        lab, dut = facts.get("lab") or {}, facts.get("dut") or {}
        output_dir = Path(output_dir).resolve()
        run_id = str(facts.get("run_id") or uuid.uuid4().hex[:12])
        lab_config, digest, deviations = lab_identity(facts)
        run = Run(
            run_id=run_id,
            night_id=night_id,
            bench=str(lab.get("name") or ""),
            station_id=str(dut.get("station_id") or ""),
            vendor=str(dut.get("vendor") or ""),
            model=str(dut.get("model") or ""),
            firmware=str(dut.get("firmware") or ""),
            serial=str(dut.get("serial") or ""),
            software_version=software_version(),
            lab_config=lab_config,
            lab_config_digest=digest,
            deviations=deviations,
            started=started,
            ended=None,
            status=RUNNING,
            host=socket.gethostname(),
            pid=int(facts.get("pid") or os.getpid()),
            output_dir=str(output_dir),
            report_path=str(output_dir / REPORT_FILE),
        )
        with Session(engine) as session, session.begin():
            _ensure_night(session, night_id, started)
            session.add(run)
        return cls(engine, run_id)

    def step(self, record: dict[str, Any], evidence: list[dict[str, Any]]) -> None:
        """One finished step and its energy figures, in one committed transaction."""
        status = str(record.get("status") or "")
        with Session(self.engine) as session, session.begin():
            result = StepResult(
                run_id=self.run_id,
                step=str(record.get("step") or ""),
                name=str(record.get("name") or ""),
                status=status,
                verdict=record_verdict(record),
                message=str(record.get("message") or ""),
                remarks=[str(r) for r in record.get("remarks") or []],
                started=parse_time(record.get("started")),
                ended=parse_time(record.get("ended")),
                elapsed_s=_float(record.get("elapsed_s")),
            )
            session.add(result)
            session.flush()
            for fig in energy_figures(evidence):
                session.add(
                    EnergyFigure(
                        step_result_id=result.id, run_id=self.run_id, step=result.step, **fig
                    )
                )

    def end(self, interrupted: bool = False, ended: datetime | None = None) -> None:
        """The run is over, with its end time: completed, or interrupted when Robot was
        stopped (a signal, a fatal error) before all its steps ran."""
        with Session(self.engine) as session, session.begin():
            run = session.get(Run, self.run_id)
            if run is not None:
                run.status = INTERRUPTED if interrupted else COMPLETED
                run.ended = ended or utc_now()
        self.engine.dispose()
