"""Alembic environment of the history database: always run from code (hil/history/db.py
hands over an open connection in ``config.attributes["connection"]``), never from an
alembic.ini, so an installed lab needs no Alembic files of its own."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from hil.history.models import Base

#: any constant: the PostgreSQL advisory lock that serialises concurrent upgrades
_PG_LOCK_KEY = 0x48494C

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies tables instead
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # three benches open the database at once: one upgrades, the others wait and
            # then find it at head (SQLite gets the same from BEGIN IMMEDIATE, db.py)
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})"))
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("the history schema is migrated online only (hil/history/db.py)")
run_migrations_online()
