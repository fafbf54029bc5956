"""Opening the history database: the URL, an engine that lets several benches write one
SQLite file at once, and the schema brought to Alembic's head.

SQLite: WAL (readers never block the writer) and a busy timeout; every transaction of a
writing engine starts with ``BEGIN IMMEDIATE``, because in WAL a deferred transaction that
read first and then writes fails at once with SQLITE_BUSY_SNAPSHOT when another process
wrote in between: the busy timeout cannot help it, an immediate one waits its turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

#: how long a writer waits for another bench's transaction (ms)
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).with_name("migrations")
#: the tables that make a database a history database (besides alembic_version)
TABLES = {"night", "run", "step_result", "energy_figure"}


class HistoryDbError(Exception):
    """The database cannot be used as the history: the message names it and says why."""


def default_url(results_dir: Path) -> str:
    return f"sqlite:///{(results_dir / 'history.sqlite').resolve()}"


def as_url(url_or_file: str) -> str:
    """An SQLAlchemy URL as given, or a file path made an SQLite URL."""
    if "://" in url_or_file:
        return url_or_file
    return f"sqlite:///{Path(url_or_file).expanduser().resolve()}"


def make_engine(url: str, write: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise HistoryDbError(f"{url}: not a database URL ({exc})") from None
    try:
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise HistoryDbError(f"{url}: cannot open ({exc})") from None
    if engine.dialect.name == "sqlite":
        _sqlite_for_many_writers(engine, write)
    return engine


def _sqlite_for_many_writers(engine: Engine, write: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # the driver's own transaction handling off: SQLAlchemy's "begin" below decides
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def sqlite_file_missing(url: str) -> Path | None:
    """The file an SQLite URL names when it does not exist (reading must not create it)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise HistoryDbError(f"{url}: not a database URL ({exc})") from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.is_file() else path


def _alembic_config(engine_conn: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = engine_conn
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    return ScriptDirectory.from_config(config).get_current_head() or ""


def upgrade(engine: Engine) -> None:
    """Bring the schema to head (creates it in an empty database); refuses a database that
    has tables but is not a history database, or a revision this lab does not know."""
    from alembic import command
    from alembic.script import ScriptDirectory

    try:
        tables = set(inspect(engine).get_table_names())
        known = {
            r.revision for r in ScriptDirectory.from_config(_alembic_config(None)).walk_revisions()
        }
        if tables and "alembic_version" not in tables:
            raise HistoryDbError(
                f"{engine.url.render_as_string()}: not a history database "
                f"(tables {', '.join(sorted(tables))}, no alembic_version)"
            )
        if "alembic_version" in tables:
            with engine.connect() as conn:
                versions = {
                    r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))
                }
            if versions - known:
                raise HistoryDbError(
                    f"{engine.url.render_as_string()}: schema revision "
                    f"{', '.join(sorted(versions))} is not one of this lab's history migrations "
                    "(a newer hil-ocpp-lab, or another application's database)"
                )
            if versions == {head_revision()}:
                return
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
    except HistoryDbError:
        raise
    except SQLAlchemyError as exc:
        raise HistoryDbError(f"{engine.url.render_as_string()}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def open_engine(url: str, write: bool = False, must_exist: bool = False) -> Engine:
    """An engine on a history database at head. ``must_exist``: a missing SQLite file is
    an error (reading), not a new database (recording)."""
    if must_exist and (missing := sqlite_file_missing(url)) is not None:
        raise HistoryDbError(f"{missing}: no such history database file")
    migrator = make_engine(url, write=True)  # SQLite: the upgrade takes the write lock first
    try:
        upgrade(migrator)
    finally:
        migrator.dispose()
    return make_engine(url, write)
