"""A throw-away PostgreSQL server for the history tests: initdb + pg_ctl in a temporary
folder, on 127.0.0.1 and a free port, its unix socket in the same folder.

PostgreSQL refuses to run as root: as root the server runs as an unprivileged user (the
``postgres`` user if the system has one, else ``nobody``) through ``runuser``; the data
folder belongs to that user. No ``initdb``: skipped, unless CI=true (then it fails).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> str | None:
    """None when not root (run as ourselves), else an unprivileged user to run as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


@dataclass
class PgServer:
    bin: Path
    data: Path
    port: int
    user: str | None
    env: dict[str, str]

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if self.user else list(args)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._cmd(*args),
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )

    @property
    def admin_url(self) -> str:
        return f"postgresql://hil@127.0.0.1:{self.port}/postgres"

    def new_database(self, name: str) -> str:
        """A fresh database on this server (psycopg, not createdb: the lab may not have
        PostgreSQL's client programs)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://hil@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")


def start_pg_or_skip(tmp: Path) -> PgServer:
    pg_bin = find_pg_bin()
    if pg_bin is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL (initdb, pg_ctl) not found; .ci/run installs it")
        pytest.skip("PostgreSQL (initdb) not found")
    user = _server_user()
    tmp.chmod(0o755)
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(sock, entry.pw_uid, entry.pw_gid)
        data.mkdir(mode=0o700)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        # every folder above must be enterable by the server's user
        for parent in tmp.parents:
            if parent == Path("/"):
                break
            if not os.access(parent, os.X_OK) or (parent.stat().st_mode & 0o001) == 0:
                parent.chmod(parent.stat().st_mode | 0o001)
    env = {**os.environ, "LC_ALL": "C", "PGUSER": "hil"}
    server = PgServer(pg_bin, data, _free_port(), user, env)
    done = server.run(
        str(pg_bin / "initdb"),
        "-D",
        str(data),
        "-U",
        "hil",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stdout}\n{done.stderr}")
    opts = f"-h 127.0.0.1 -p {server.port} -k {sock} -F -c synchronous_commit=off"
    done = server.run(
        str(pg_bin / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        opts,
        "-l",
        str(data / "log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    if done.returncode != 0:
        log = (data / "log").read_text() if (data / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n{log}")
    _wait_ready(server)
    return server


def _wait_ready(server: PgServer, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(server.admin_url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)
