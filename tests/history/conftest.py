"""History tests run against SQLite and, when it can be started, a throw-away PostgreSQL
server (tests/history/pg.py): the ``db_url`` fixture gives each test a fresh database."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.history.pg import PgServer, start_pg_or_skip

_count = itertools.count()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    server = start_pg_or_skip(tmp_path_factory.mktemp("pg"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database(f"h{next(_count)}")
