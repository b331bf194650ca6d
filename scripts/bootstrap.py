"""Make sure the services the portal needs are there before it starts.

Used by scripts/run.sh and scripts/test.sh:

    eval "$(.venv/bin/python scripts/bootstrap.py services)"            # run the portal
    eval "$(.venv/bin/python scripts/bootstrap.py services --tests)"    # run the tests
    .venv/bin/python scripts/bootstrap.py stop                          # stop what it started

It prints `export NAME=value` lines on standard output (for the shell to
evaluate) and explains what it did on standard error:

- PostgreSQL: when nothing answers on DATABASE_URL and the URL names this
  machine, it starts a project-local server under .local/postgres from the
  installed PostgreSQL binaries (trust authentication, listening on
  127.0.0.1 only), then creates the database when it is missing.
- Redis: when nothing answers on CELERY_BROKER_URL, the portal runs report
  jobs inside the web process (CELERY_TASK_ALWAYS_EAGER=true) and says so.
  The tests need a real Redis: with --tests a project-local redis-server is
  started instead, and the command fails when there is none to start.

Only the standard library and psycopg2 (from requirements.txt) are used.
"""

from __future__ import annotations

import argparse
import glob
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / ".local"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nhs_joint"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


class BootstrapError(Exception):
    """A service the portal needs cannot be reached or started; the message says what to do."""


def say(message: str) -> None:
    print(f"bootstrap: {message}", file=sys.stderr)


@dataclass(frozen=True)
class Database:
    """The parts of a postgres:// URL that the bootstrap needs."""

    host: str
    port: int
    user: str
    password: str
    name: str

    @classmethod
    def from_url(cls, url: str) -> "Database":
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise BootstrapError(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme or 'empty'}://")
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise BootstrapError("DATABASE_URL names no database (expected postgres://user@host:port/name)")
        return cls(
            host=unquote(parts.hostname or ""),
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            name=name,
        )

    @property
    def is_local(self) -> bool:
        return self.host in LOCAL_HOSTS

    def connect(self, dbname: str, timeout: int = 3):
        import psycopg2

        return psycopg2.connect(
            host=self.host or "127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            connect_timeout=timeout,
        )


def postgres_answers(db: Database) -> bool:
    """True when a PostgreSQL server accepts this user's connection to its maintenance database."""
    import psycopg2

    try:
        db.connect("postgres").close()
    except psycopg2.OperationalError:
        return False
    return True


def ensure_database(db: Database) -> bool:
    """Create the database when it is missing; True when it was created."""
    from psycopg2 import sql

    connection = db.connect("postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db.name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))
            return True
    finally:
        connection.close()


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL server binaries (Debian keeps them out of PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True
    )
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the system's postgres user then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if not runuser:
        raise BootstrapError("running as root and `runuser` is missing: cannot start PostgreSQL as its own user")
    return [runuser, "-u", "postgres", "--", *command]


def start_local_postgres(db: Database, datadir: Path, *, timeout: int = 60) -> None:
    """Start a project-local PostgreSQL on db.port, creating its cluster on first use."""
    bindir = postgres_bindir()
    if bindir is None:
        raise BootstrapError(
            "no PostgreSQL answers on DATABASE_URL and no PostgreSQL server binaries are installed: "
            "install them (Debian: apt-get install postgresql) or set DATABASE_URL to a running server"
        )
    datadir.mkdir(parents=True, exist_ok=True)
    socket_dir = datadir.parent / "postgres-socket"
    socket_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
        shutil.chown(socket_dir, "postgres", "postgres")
        # The server user must be able to reach its folders through the project's.
        for parent in (datadir.parent, *datadir.parent.parents):
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o001)
    if not (datadir / "PG_VERSION").exists():
        say(f"creating a project-local PostgreSQL cluster in {datadir}")
        subprocess.run(
            _as_server_user([
                str(bindir / "initdb"), "-D", str(datadir), "--username", db.user,
                "--auth", "trust", "--encoding", "UTF8", "--locale", "C.UTF-8",
            ]),
            check=True, stdout=subprocess.DEVNULL,
        )
    say(f"starting a project-local PostgreSQL on 127.0.0.1:{db.port} (log: {datadir.parent / 'postgres.log'})")
    log = datadir.parent / "postgres.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres", "postgres")
    options = f"-p {db.port} -c listen_addresses=127.0.0.1 -k {socket_dir}"
    subprocess.run(
        _as_server_user([
            str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-o", options,
            "-w", "-t", str(timeout), "start",
        ]),
        check=True, stdout=subprocess.DEVNULL,
    )
    if not wait_for(lambda: postgres_answers(db), timeout):
        raise BootstrapError(f"the project-local PostgreSQL did not answer within {timeout}s: see {log}")


def stop_local_postgres(datadir: Path) -> bool:
    bindir = postgres_bindir()
    if bindir is None or not (datadir / "postmaster.pid").exists():
        return False
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"]),
        check=False, stdout=subprocess.DEVNULL,
    )
    return True


def redis_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise BootstrapError(f"CELERY_BROKER_URL must be a redis:// URL, not {parts.scheme or 'empty'}://")
    return parts.hostname or "127.0.0.1", parts.port or 6379


def redis_answers(url: str, timeout: float = 2.0) -> bool:
    """True when a Redis server answers PING at this URL."""
    host, port = redis_address(url)
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def start_local_redis(url: str, workdir: Path, *, timeout: int = 20) -> None:
    server = shutil.which("redis-server")
    if server is None:
        raise BootstrapError(
            "no Redis answers on CELERY_BROKER_URL and redis-server is not installed: "
            "install it (Debian: apt-get install redis-server) or set CELERY_BROKER_URL to a running server"
        )
    host, port = redis_address(url)
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"starting a project-local Redis on {host}:{port}")
    subprocess.run(
        [server, "--daemonize", "yes", "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--pidfile", str(workdir / "redis.pid")],
        check=True,
    )
    if not wait_for(lambda: redis_answers(url), timeout):
        raise BootstrapError(f"the project-local Redis did not answer within {timeout}s: see {workdir / 'redis.log'}")


def wait_for(check, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def services(environ: dict[str, str], *, for_tests: bool, local: Path = LOCAL) -> dict[str, str]:
    """Bring PostgreSQL and Redis up as needed; return the environment variables to export."""
    exports: dict[str, str] = {}
    database_url = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    db = Database.from_url(database_url)
    if postgres_answers(db):
        say(f"PostgreSQL answers on {db.host or 'localhost'}:{db.port}")
    elif db.is_local:
        start_local_postgres(db, local / "postgres" / "data")
    else:
        raise BootstrapError(f"no PostgreSQL answers on {db.host}:{db.port} (DATABASE_URL): start it or fix the URL")
    if not for_tests and ensure_database(db):
        say(f"created the database {db.name}")

    broker_url = environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    if redis_answers(broker_url):
        say(f"Redis answers on {':'.join(map(str, redis_address(broker_url)))}")
    elif for_tests:
        host, _ = redis_address(broker_url)
        if host not in LOCAL_HOSTS:
            raise BootstrapError(f"no Redis answers on {broker_url} (CELERY_BROKER_URL): the tests need a real Redis")
        start_local_redis(broker_url, local / "redis")
    else:
        say(
            "no Redis answers on CELERY_BROKER_URL: report jobs will run inside the web process "
            "(CELERY_TASK_ALWAYS_EAGER=true) and no Celery worker is started"
        )
        exports["CELERY_TASK_ALWAYS_EAGER"] = "true"
    return exports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("services", help="start what is missing and print the variables to export")
    up.add_argument("--tests", action="store_true", help="the test suite needs a real Redis: start one if missing")
    commands.add_parser("stop", help="stop the project-local PostgreSQL and Redis, if they were started")
    args = parser.parse_args(argv)
    try:
        if args.command == "services":
            for name, value in services(dict(os.environ), for_tests=args.tests).items():
                print(f"export {name}={shlex.quote(value)}")
        else:
            if stop_local_postgres(LOCAL / "postgres" / "data"):
                say("stopped the project-local PostgreSQL")
            pidfile = LOCAL / "redis" / "redis.pid"
            if pidfile.exists():
                subprocess.run(["kill", pidfile.read_text().strip()], check=False)
                say("stopped the project-local Redis")
    except (BootstrapError, subprocess.CalledProcessError) as error:
        say(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
