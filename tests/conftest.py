import contextlib
import dataclasses
import os
import signal

import pytest

from tests import databases


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`--dist loadgroup`), each module of the tests that drive Chromium, and each module of
    the other tests that serve the portal from a live server, runs its tests one after another on one worker,
    so that what the module sets up once (its seeded data, its server, its browser) is set up on one worker
    only; two such modules may run at once, one on each worker. The other tests are shared out between the
    workers test by test. A module that names its own group keeps it."""
    for item in items:
        own = item.get_closest_marker("xdist_group")
        if own:
            group = own.args[0]
        elif item.get_closest_marker("browser") or item.path.parent.name == "browser":
            group = f"browser-{item.path.stem}"
        elif "live_server" in getattr(item, "fixturenames", ()):
            group = f"live-server-{item.path.stem}"
        else:
            continue
        if not own:
            item.add_marker(pytest.mark.xdist_group(group))
        if getattr(config.option, "loadgroup", False):  # set on each pytest-xdist worker under --dist loadgroup
            name_the_group_in_the_test_id(item, group)
    if getattr(config.option, "loadgroup", False):
        # The slow tests are handed out first. pytest-xdist hands out its groups of several tests first, then the
        # single tests (a test of no group, or a group of one) in the order collected: a slow one collected late
        # (a minute-long walk, a schema fuzzed) started when the other worker had little left, which then waited.
        # Slow ones first, the quick ones fill the end of the run on both workers.
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def name_the_group_in_the_test_id(item, group):
    """pytest-xdist's scheduler sends the tests whose ids end in the same `@group` to one worker. pytest-xdist
    3.8 writes that ending into an attribute pytest 9 no longer reads (Item._nodeid), so every group was
    silently ignored and its tests spread over both workers; it is written here where pytest 9 keeps the id."""
    from _pytest.nodeid import NodeId

    if not item.nodeid.endswith(f"@{group}"):
        item._id = NodeId.parse(f"{item.nodeid}@{group}")


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database: a copy of the run's migrated template (tests/databases.py), not a migration each."""
    from django.db import connections
    from django.test import TransactionTestCase
    from django.test.utils import teardown_databases

    run_id = getattr(request.config, "workerinput", {}).get("testrunuid")
    with django_db_blocker.unblock():
        old_config = databases.set_up_from_template(
            run_id, rebuild=request.config.getvalue("create_db"), verbosity=request.config.option.verbose
        )
        databases.remember_migrated_state(connections["default"])
    django_teardown = TransactionTestCase._fixture_teardown

    def back_to_migrated(self):
        for alias in self._databases_names(include_mirrors=False):
            databases.restore_migrated_state(connections[alias])

    TransactionTestCase._fixture_teardown = back_to_migrated
    yield
    TransactionTestCase._fixture_teardown = django_teardown
    with django_db_blocker.unblock():
        try:
            teardown_databases(old_config, verbosity=request.config.option.verbose)
        except Exception as error:  # as pytest-django's own: a database left behind is dropped by the next run
            request.node.warn(pytest.PytestWarning(f"the test database was not dropped: {error!r}"))


def shared_test_data(django_db_blocker, make):
    """Rows made once for the tests of a module or class that only read them, as TestCase.setUpTestData does.

    For a module-scoped fixture (`yield from shared_test_data(django_db_blocker, make)`): ``make()`` runs in a
    transaction left open while the module's tests run, each test in a savepoint of it (pytest-django's `db`),
    so what a test writes is rolled back after it as usual; the rows ``make`` made are rolled back after the
    module's last test. Return keys from ``make``, not model instances, and read the records afresh in each
    test (a function-scoped fixture), so that no test sees another's changes to an instance in memory. Only
    for modules whose tests are not transactional (a transactional test empties the tables it writes).
    """
    from django.db import transaction

    with django_db_blocker.unblock():
        kept = transaction.atomic()
        kept.__enter__()
        try:
            made = make()
        except BaseException:
            transaction.set_rollback(True)
            kept.__exit__(None, None, None)
            raise
    try:
        yield made
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            kept.__exit__(None, None, None)


@pytest.fixture(scope="session")
def own_postgresql(tmp_path_factory, django_db_setup):
    """A PostgreSQL of the tests' own, for the tests that stop it or hang it (tests/test_database_outage.py,
    tests/test_bounded_time.py): started as scripts/bootstrap.py starts a project-local one, on a free loopback
    port, holding a copy of the run's migrated test database and a member of staff with a session and an API
    token. Made once for those tests (one xdist group, so one worker makes it), started again for each test
    that finds it stopped, and stopped after the last."""
    from django.conf import settings

    from tests.test_bootstrap import bootstrap, free_port
    from tests.test_database_outage import MAKE_SESSION, copy_migrated_database, manage

    folder = tmp_path_factory.mktemp("own-postgresql")
    url = f"postgres://postgres@127.0.0.1:{free_port()}/portal_own"
    server = bootstrap.installed_server(folder, bootstrap.bin_search(os.environ))
    assert server is not None, "these tests need the installed PostgreSQL server binaries"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.test",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    try:
        bootstrap.services(
            {"DATABASE_URL": url, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}, for_tests=False, local=folder
        )
        copy_migrated_database(server, url)
        make = MAKE_SESSION + "from accounts.models import ApiToken\nprint(ApiToken.issue(user)[1])\n"
        cookie, token = manage(env, "shell", "-c", make).strip().splitlines()[-2:]
        own = OwnPostgreSQL(server, url, env, cookie, token)
        yield own
    finally:
        if not bootstrap.stop_local_postgres(server):
            pid = server.datadir / "postmaster.pid"
            if pid.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid.read_text().split()[0]), signal.SIGTERM)


@dataclasses.dataclass
class OwnPostgreSQL:
    server: object  # scripts/bootstrap.py's LocalServer
    url: str
    env: dict  # the environment of a portal process that uses it
    cookie: str  # the staff member's session
    token: str  # and API token

    def running(self):
        """Started again if a test before left it stopped; its postmaster's process id."""
        from tests.test_bootstrap import bootstrap

        db = bootstrap.Database.from_url(self.url)
        if not bootstrap.postgres_responds(db):
            bootstrap.start_local_postgres(db, self.server)
        return int((self.server.datadir / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def nhse(db):
    from tests.factories import NationalBodyFactory

    return NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")


@pytest.fixture
def nhsi(db):
    from tests.factories import NationalBodyFactory

    return NationalBodyFactory(code="NHSI", name="NHS Improvement")


def create_roles():
    """The role groups of the data migration: transactional tests empty every table between tests, these too."""
    from django.contrib.auth.models import Group

    from accounts.models import Role

    for name in Role.ALL:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def render_every_time(settings):
    """Pages drawn on every request, not answered from the drawing kept for them (nhs_joint/conditional.py):
    for the tests that count what drawing a page costs."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def clear_cached_parts():
    """No test reads a part or a list's order kept by another (nhs_joint/parts.py, nhs_joint/page_ids.py)."""
    from nhs_joint import page_ids, parts

    parts.clear()
    page_ids.clear()
