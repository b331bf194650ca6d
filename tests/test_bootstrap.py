"""The run and test commands' bootstrap: finding, starting and creating the services the portal needs."""

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "scripts" / "bootstrap.py")
bootstrap = importlib.util.module_from_spec(spec)
sys.modules.setdefault("bootstrap", bootstrap)
spec.loader.exec_module(bootstrap)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def current_database(name=None):
    config = settings.DATABASES["default"]
    return bootstrap.Database(
        host=config["HOST"] or "127.0.0.1",
        port=int(config["PORT"] or 5432),
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or "",
        name=name or config["NAME"],
    )


def test_database_url_is_parsed_with_defaults():
    db = bootstrap.Database.from_url("postgres://portal:s%40cret@db.example:6543/joint")
    assert (db.host, db.port, db.user, db.password, db.name) == ("db.example", 6543, "portal", "s@cret", "joint")
    assert not db.is_local
    local = bootstrap.Database.from_url("postgresql://127.0.0.1/nhs_joint")
    assert (local.port, local.user, local.is_local) == (5432, "postgres", True)


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://root@127.0.0.1/nhs_joint", "postgres:// URL"),
        ("postgres://postgres@127.0.0.1:5432/", "names no database"),
    ],
)
def test_a_bad_database_url_is_explained(url, message):
    with pytest.raises(bootstrap.BootstrapError, match=message):
        bootstrap.Database.from_url(url)


def test_postgres_answers_only_where_a_server_listens():
    assert bootstrap.postgres_responds(current_database())
    closed = bootstrap.Database("127.0.0.1", free_port(), "postgres", "", "nhs_joint")
    assert not bootstrap.postgres_responds(closed)


def test_a_missing_database_is_created_once():
    db = current_database(name=f"bootstrap_{uuid.uuid4().hex[:12]}")
    try:
        assert bootstrap.ensure_database(db) is True
        assert bootstrap.ensure_database(db) is False
        db.connect(db.name).close()
    finally:
        connection = db.connect("postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{db.name}"')
        connection.close()


def test_without_redis_the_portal_runs_jobs_in_process_and_says_so(capsys):
    db = current_database()
    environ = {
        "DATABASE_URL": f"postgres://{db.user}@{db.host}:{db.port}/{db.name}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    exports = bootstrap.services(environ, for_tests=False)
    assert exports == {"CELERY_TASK_ALWAYS_EAGER": "true"}
    assert "run inside the web process" in capsys.readouterr().err


def test_with_redis_nothing_changes():
    db = current_database()
    environ = {
        "DATABASE_URL": f"postgres://{db.user}@{db.host}:{db.port}/{db.name}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    assert bootstrap.redis_responds(settings.CELERY_BROKER_URL)
    assert bootstrap.services(environ, for_tests=False) == {}


@pytest.mark.slow
def test_the_tests_get_a_project_local_redis_when_none_answers(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    db = current_database()
    environ = {"DATABASE_URL": f"postgres://{db.user}@{db.host}:{db.port}/{db.name}", "CELERY_BROKER_URL": url}
    try:
        assert bootstrap.services(environ, for_tests=True, local=tmp_path) == {}
        assert bootstrap.redis_responds(url)
    finally:
        pidfile = tmp_path / "redis" / "redis.pid"
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)


@pytest.mark.slow
def test_a_project_local_postgres_is_started_where_none_answers(tmp_path, capsys):
    port = free_port()
    url = f"postgres://postgres@127.0.0.1:{port}/portal_local"
    datadir = tmp_path / "postgres" / "data"
    environ = {"DATABASE_URL": url, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    try:
        assert bootstrap.services(environ, for_tests=False, local=tmp_path) == {}
        db = bootstrap.Database.from_url(url)
        connection = db.connect("portal_local")
        with connection.cursor() as cursor:
            # The portal's migrations need these extensions from the same binaries.
            cursor.execute(
                "SELECT name FROM pg_available_extensions WHERE name IN ('pg_trgm', 'unaccent', 'btree_gist')"
            )
            assert {row[0] for row in cursor.fetchall()} == {"pg_trgm", "unaccent", "btree_gist"}
        connection.close()
        assert "project-local PostgreSQL" in capsys.readouterr().err
        # A second start finds it running and leaves it alone.
        assert bootstrap.services(environ, for_tests=False, local=tmp_path) == {}
    finally:
        assert bootstrap.stop_local_postgres(bootstrap.installed_server(tmp_path, bootstrap.bin_search(os.environ)))
    assert not bootstrap.postgres_responds(bootstrap.Database.from_url(url))
    assert (datadir / "PG_VERSION").exists()


def fake_postgresql(folder, version):
    """A folder of programs that answer like PostgreSQL's server binaries of this version."""
    folder.mkdir(parents=True)
    for name in ("initdb", "pg_ctl", "postgres"):
        program = folder / name
        program.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
        program.chmod(0o755)
    return folder


def test_installed_binaries_are_searched_where_postgres_bin_search_says(tmp_path):
    default = bootstrap.bin_search({"PATH": "/usr/local/bin:/usr/bin"})
    assert default == ["/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/bin", "/usr/bin"]
    old = fake_postgresql(tmp_path / "lib" / "13" / "bin", "13.9")
    new = fake_postgresql(tmp_path / "lib" / "16" / "bin", "16.4")
    on_path = fake_postgresql(tmp_path / "path", "15.8")
    search = bootstrap.bin_search({"POSTGRES_BIN_SEARCH": f"{tmp_path}/lib/*/bin:{on_path}", "PATH": "/usr/bin"})
    assert search == [f"{tmp_path}/lib/*/bin", str(on_path)]
    # The newest version wins, wherever it is in the search.
    assert bootstrap.postgres_bindir(search) == new.resolve()
    assert bootstrap.postgres_bindir([str(old), str(on_path)]) == on_path.resolve()
    # A folder without the server (client programs only, say) does not count.
    (new / "postgres").unlink()
    assert bootstrap.postgres_bindir(search) == on_path.resolve()
    # An empty setting hides every installed PostgreSQL: the embedded one is used then.
    assert bootstrap.bin_search({"POSTGRES_BIN_SEARCH": "", "PATH": str(on_path)}) == []
    assert bootstrap.postgres_bindir([]) is None


def test_a_cluster_made_by_another_major_version_is_explained_not_started(tmp_path):
    bindir = fake_postgresql(tmp_path / "lib" / "17" / "bin", "17.10")
    server = bootstrap.LocalServer(bindir, tmp_path / "postgres" / "data", "PostgreSQL 17.10 installed in lib")
    server.datadir.mkdir(parents=True)
    (server.datadir / "PG_VERSION").write_text("15\n")
    db = bootstrap.Database("127.0.0.1", free_port(), "postgres", "", "nhs_joint")
    with pytest.raises(
        bootstrap.BootstrapError, match="made by PostgreSQL 15, and PostgreSQL 17.10 installed in lib is 17"
    ):
        bootstrap.start_local_postgres(db, server)
    assert not server.log.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs another user to run PostgreSQL")
def test_root_runs_postgresql_as_the_cluster_owner_or_postgres_or_a_user_made_for_it(tmp_path, monkeypatch, capsys):
    import pwd

    datadir = tmp_path / "data"
    datadir.mkdir()
    (datadir / "PG_VERSION").write_text("17\n")
    nobody = pwd.getpwnam("nobody")
    os.chown(datadir, nobody.pw_uid, nobody.pw_gid)
    assert bootstrap.server_user(datadir) == "nobody"

    os.chown(datadir, 0, 0)
    real_getpwnam = pwd.getpwnam
    monkeypatch.setattr(
        pwd, "getpwnam", lambda name: real_getpwnam("nobody") if name == "postgres" else real_getpwnam(name)
    )
    assert bootstrap.server_user(datadir) == "postgres"

    # A bare machine: no postgres user. useradd makes a system user without a home or a login shell.
    calls = tmp_path / "useradd.args"
    useradd = tmp_path / "useradd"
    useradd.write_text(f'#!/bin/sh\necho "$@" > {calls}\n')
    useradd.chmod(0o755)

    def missing(name):
        raise KeyError(name)

    monkeypatch.setattr(pwd, "getpwnam", missing)
    monkeypatch.setattr(bootstrap.shutil, "which", lambda name: str(useradd) if name == "useradd" else None)
    assert bootstrap.server_user(datadir) == bootstrap.SERVER_USER
    args = calls.read_text().split()
    assert args[-1] == bootstrap.SERVER_USER
    assert {"--system", "--no-create-home", "/usr/sbin/nologin"} <= set(args)
    assert f"created the system user {bootstrap.SERVER_USER}" in capsys.readouterr().err

    monkeypatch.setattr(bootstrap.shutil, "which", lambda name: None)
    with pytest.raises(bootstrap.BootstrapError, match="PostgreSQL refuses to run as root"):
        bootstrap.server_user(datadir)


def run_manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        **kwargs,
    )


SIGNED_IN_PAGE = """
from django.test import Client
from accounts.models import User
user = User.objects.create_user("embedded.check", "embedded.check@example.nhs.uk", "a long enough password")
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(user)
response = client.get("/programmes/", {"q": "hopital"})
print(response.status_code)
print("embedded.check" in response.content.decode())
"""


@pytest.mark.slow
def test_without_postgresql_the_portal_comes_up_on_the_embedded_one(tmp_path):
    # A bare machine: nothing answers on the port of DATABASE_URL and no server binaries are installed
    # (the search for them is pointed at an empty folder).
    port = free_port()
    url = f"postgres://postgres@127.0.0.1:{port}/portal_embedded"
    local = tmp_path / "local"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "POSTGRES_BIN_SEARCH": str(tmp_path / "no-postgresql-here"),
    }
    db = bootstrap.Database.from_url(url)
    assert bootstrap.postgres_bindir(bootstrap.bin_search(env)) is None
    assert not bootstrap.postgres_responds(db)
    command = [sys.executable, str(ROOT / "scripts" / "bootstrap.py")]
    try:
        started = subprocess.run(
            [*command, "services", "--local", str(local)], env=env, capture_output=True, text=True, timeout=900
        )
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == "export CELERY_TASK_ALWAYS_EAGER=true"
        assert "no PostgreSQL server binaries are installed: using the embedded PostgreSQL" in started.stderr
        assert "created the database portal_embedded" in started.stderr
        connection = db.connect("portal_embedded")
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            assert cursor.fetchone()[0] == str(local / "embedded-postgres" / "data")
            cursor.execute("SHOW server_version_num")
            assert int(cursor.fetchone()[0]) // 10000 == 17
        connection.close()

        django_env = {**env, "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.test", "CELERY_TASK_ALWAYS_EAGER": "true"}
        migrated = run_manage(django_env, "migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
        connection = db.connect("portal_embedded")
        with connection.cursor() as cursor:
            cursor.execute("SELECT extname FROM pg_extension")
            assert {"pg_trgm", "unaccent", "btree_gist"} <= {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT unaccent('Hôpital')")
            assert cursor.fetchone()[0] == "Hopital"
        connection.close()

        page = run_manage(django_env, "shell", "--no-imports", "-c", SIGNED_IN_PAGE)
        assert page.returncode == 0, page.stderr
        assert page.stdout.split() == ["200", "True"]

        # A second start finds it answering and leaves it alone; nothing is installed again.
        again = subprocess.run(
            [*command, "services", "--local", str(local)], env=env, capture_output=True, text=True, timeout=300
        )
        assert again.returncode == 0, again.stderr
        assert f"PostgreSQL answers on 127.0.0.1:{port}" in again.stderr
        assert "installing" not in again.stderr
    finally:
        stopped = subprocess.run(
            [*command, "stop", "--local", str(local)], env=env, capture_output=True, text=True, timeout=300
        )
    assert "stopped the project-local PostgreSQL (the embedded PostgreSQL" in stopped.stderr
    assert not bootstrap.postgres_responds(db)
    assert not (local / "embedded-postgres" / "data" / "postmaster.pid").exists()


def test_a_remote_database_that_does_not_answer_is_an_error_not_a_local_start(tmp_path):
    # 127.0.0.2 is loopback, so nothing leaves this machine, but it is not one of the names the
    # bootstrap takes for this machine's own server: it must refuse rather than start one.
    environ = {"DATABASE_URL": f"postgres://postgres@127.0.0.2:{free_port()}/nhs_joint"}
    assert not bootstrap.Database.from_url(environ["DATABASE_URL"]).is_local
    with pytest.raises(bootstrap.BootstrapError, match="no PostgreSQL answers on 127.0.0.2"):
        bootstrap.services(environ, for_tests=False, local=tmp_path)
    assert not (tmp_path / "postgres").exists()


def test_the_command_line_reports_errors_without_a_traceback(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@127.0.0.1/nhs_joint")
    assert bootstrap.main(["services"]) == 1
    err = capsys.readouterr().err
    assert "bootstrap: error: DATABASE_URL must be a postgres:// URL" in err
    assert "Traceback" not in err


def test_the_command_line_prints_exports_for_the_shell(monkeypatch):
    db = current_database()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db.user}@{db.host}:{db.port}/{db.name}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bootstrap.py"), "services"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "export CELERY_TASK_ALWAYS_EAGER=true"


def test_the_readme_starts_with_the_two_commands_and_they_exist():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["scripts/run.sh", "scripts/test.sh"]
    for command in commands:
        assert os.access(ROOT / command, os.X_OK), command
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
