"""``hil history``: the verdict trends on the console, and the HTML page with ``--html``.

Registered by hil/cli.py; kept here so the history's options live with the history."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from hil.history.console import print_failures, print_history
    from hil.history.db import HistoryDbError, as_url, open_engine
    from hil.history.page import write_page
    from hil.history.trends import history

    url = as_url(args.db)
    try:
        engine = open_engine(url, must_exist=True)
    except HistoryDbError as exc:
        print(f"hil history: {exc}", file=sys.stderr)
        return 2
    try:
        h = history(engine, args.nights, args.bench)
        if args.failures:
            print_failures(h)
        else:
            print_history(h)
        if args.html:
            t0 = time.perf_counter()
            write_page(engine, Path(args.html), args.nights, args.bench)
            print(f"{args.html} written ({time.perf_counter() - t0:.2f} s)")
    finally:
        engine.dispose()
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "history",
        help="verdicts per bench and night from the history database",
        description="Per bench: each checklist step's verdict over the last nights, since "
        "when a failing step fails (and on which firmware), flaky steps; --html writes a "
        "self-contained page with the energy error plot and links to each run's report.",
    )
    parser.add_argument(
        "--db",
        required=True,
        metavar="URL_OR_FILE",
        help="SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...) or an SQLite file",
    )
    parser.add_argument("--nights", type=int, default=7, help="nights to show (default 7)")
    parser.add_argument("--bench", help="one bench (its lab name) only")
    parser.add_argument("--html", metavar="PATH", help="also write the HTML page here")
    parser.add_argument(
        "--failures",
        action="store_true",
        help="only the failing steps (new ones first, with what changed) and the flaky "
        "ones, per bench; fits 80 columns",
    )
    parser.set_defaults(func=run)
