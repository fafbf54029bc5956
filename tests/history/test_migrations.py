"""The schema is Alembic's: an empty database upgrades to head, the models agree with the
migrations (what ``alembic check`` does), and a database that is not a history refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from hil.history.db import HistoryDbError, head_revision, make_engine, open_engine
from hil.history.models import Base


def test_empty_database_upgrades_to_head_and_matches_the_models(db_url: str) -> None:
    engine = open_engine(db_url, write=True)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            == head_revision()
        )
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == [], f"models and migrations differ; add a revision: {diffs}"
    assert {"night", "run", "step_result", "energy_figure"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_opening_twice_is_a_no_op(db_url: str) -> None:
    open_engine(db_url, write=True).dispose()
    open_engine(db_url, write=True).dispose()


def test_a_database_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(HistoryDbError, match="not a history database"):
        open_engine(f"sqlite:///{path}")


def test_an_unknown_revision_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    open_engine(url, write=True).dispose()
    engine = make_engine(url, write=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(HistoryDbError, match="9999"):
        open_engine(url)
