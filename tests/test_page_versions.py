"""A page is never stale: its version (nhs_joint/versions, nhs_joint/conditional.py) follows committed
changes in commit order, whatever wrote them, and covers every table the page reads."""

import io
import os
import re
import subprocess
import sys
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from measures.services import import_measurements
from nhs_joint.registry import registry
from organisations.models import NationalBody
from programmes.models import Programme, Workstream
from regions.models import Region
from reports import services
from reports.models import Finding, ReportRun
from tests import factories as f
from tests.conftest import create_roles, shared_test_data
from tests.test_every_page_as_each_role import every_page, seed_world
from tests.test_every_page_as_each_role import world as world  # a fixture, on this module's `world_once`

TABLE_READ = re.compile(r'\b(?:FROM|JOIN)\s+"([a-z0-9_]+)"', re.IGNORECASE)
# Who asks, not what the page shows of the data: the tag holds the person's session or token, roles, bodies
# and region (nhs_joint/conditional.py etag_for), and their sign-in records.
REQUESTER_TABLES = frozenset(
    {
        "django_session",
        "accounts_user",
        "accounts_user_groups",
        "accounts_user_bodies",
        "auth_group",
        "accounts_apitoken",
        "axes_accessattempt",
    }
)


def tables_read(queries):
    """The tables the queries read, less the page's version query itself."""
    return {table for q in queries if "portal_data_version" not in q["sql"] for table in TABLE_READ.findall(q["sql"])}


def uncovered(client, url, user):
    """The tables a drawing of ``url`` reads that its version does not cover, or None when the page has no
    version (it is drawn every time)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    # The home sends a Regional director on to their region's dashboard, which is walked in its own right.
    assert response.status_code in (200, 400, 403) or (url, response.status_code) == ("/", 302), (url, response)
    covered = getattr(response, "version_tables", None)
    if covered is None or response.status_code in (302, 403):
        return None
    covered = set(covered)
    for part in registry.page_versions:
        covered |= set(TABLE_READ.findall(part("%s")))
    return sorted(tables_read(ctx.captured_queries) - covered - REQUESTER_TABLES)


@pytest.fixture(scope="class")
def world_once(django_db_setup, django_db_blocker):
    """The world of tests/test_every_page_as_each_role.py made once for the class that walks its pages (which
    only reads it); for the class, not the module, because the module's later tests are transactional."""
    yield from shared_test_data(django_db_blocker, seed_world)


@pytest.fixture
def everyone(world):
    """A person with every role and both bodies, of a region: every page answers them."""
    user = f.UserFactory(role=Role.STAFF, bodies=list(NationalBody.objects.all()))
    user.groups.add(*Group.objects.filter(name__in=[Role.REGIONAL_DIRECTOR, Role.ADMINISTRATOR]))
    user.region = Region.objects.active().order_by("ods_code").first()
    user.save()
    return user


class TestWhatAPageReads:
    def test_every_page_reads_only_tables_its_version_covers(self, client, everyone, render_every_time):
        """Each registered page and API list, drawn as a person with every role: every table its drawing reads
        is one that its version covers, so a committed change to any of them gives it a new tag.

        Seen failing before the resources declared what else they read: a finding's page read the appointments,
        shares and bodies it names and its case; a person's page, the regions list and the regions API the
        appointments' shares; a local system's page the programmes and measures asked of it; and every page that
        names records by their content type read django_content_type. The test below shows it failing again."""
        client.force_login(everyone)
        urls = [url for url, _ in every_page(everyone)] + [f"/api/v1/{route.prefix}/" for route in registry.api_routes]
        faults = {}
        versioned = 0
        for url in urls:
            if url == "/no-such-page/":
                continue
            missing = uncovered(client, url, everyone)
            if missing is None:
                continue
            versioned += 1
            if missing:
                faults[url] = missing
        assert versioned >= 40
        assert not faults, "\n".join(f"{url}: {tables}" for url, tables in faults.items())

    def test_a_page_reading_a_table_its_version_lacks_is_named(self, client, everyone, render_every_time, monkeypatch):
        """The check above fails when a page reads a table outside its version: a person's page without the
        appointments' shares among what it declares it reads."""
        person = registry.resource_named("person")
        client.force_login(everyone)
        url = person.detail_url(person.list.queryset().filter(appointments__shares__isnull=False).first().pk)
        assert uncovered(client, url, everyone) == []
        declared = person.reads
        object.__setattr__(person, "reads", ())  # a declaration is frozen: broken here on purpose, and put back
        try:
            assert uncovered(client, url, everyone) == ["appointments_appointmentshare"]
        finally:
            object.__setattr__(person, "reads", declared)


# Changes committed by other connections: the tests below hold real transactions open and commit them in turn.


@pytest.fixture
def staff(transactional_db):
    create_roles()
    body = f.NationalBodyFactory(code="NHSE", name="NHS England")
    return f.UserFactory(role=Role.STAFF, bodies=[body])


def read(client, url, etag=None):
    """The page as a browser holding ``etag`` asks for it again: (status, ETag, text)."""
    extra = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    response = client.get(url, **extra)
    return response.status_code, response.get("ETag"), response.content.decode()


class Transaction(threading.Thread):
    """``change()`` run through the ORM in a transaction of its own connection, held open until ``commit()``."""

    def __init__(self, change):
        super().__init__(daemon=True)
        self.change, self.changed, self.release, self.error = change, threading.Event(), threading.Event(), None

    def run(self):
        try:
            with transaction.atomic():
                self.change()
                self.changed.set()
                assert self.release.wait(30), "the test never let the transaction commit"
        except BaseException as error:  # seen by the test, not lost in the thread
            self.error = error
        finally:
            self.changed.set()
            connection.close()

    def begin(self):
        self.start()
        assert self.changed.wait(30) and self.error is None, self.error
        return self

    def commit(self):
        self.release.set()
        self.join(30)
        assert not self.is_alive() and self.error is None, self.error


def test_a_change_committed_after_a_later_one_reaches_the_page(client, staff):
    """Transaction A renames one programme and stays open; B renames another and commits; the page is read;
    A commits: the page has a new tag and A's change, asked with the old tag or without one."""
    first, second = f.ProgrammeFactory(title="Winter planning"), f.ProgrammeFactory(title="Cancer waits")
    client.force_login(staff)
    read(client, "/programmes/")  # drawn and kept before either change

    a = Transaction(lambda: _save_title(first.pk, "Winter and urgent care planning")).begin()
    b = Transaction(lambda: _save_title(second.pk, "Cancer waiting times")).begin()
    b.commit()
    status, etag, text = read(client, "/programmes/")
    assert status == 200 and "Cancer waiting times" in text and "Winter and urgent care planning" not in text

    a.commit()
    status, again, text = read(client, "/programmes/", etag)
    assert status == 200 and again != etag and "Winter and urgent care planning" in text
    status, plain, text = read(client, "/programmes/")
    assert status == 200 and plain == again and "Winter and urgent care planning" in text


def _save_title(pk, title):
    programme = Programme.objects.get(pk=pk)
    programme.title = title
    programme.save()


def _update(workstream):
    Workstream.objects.filter(pk=workstream.pk).update(title="Hospital discharge by update")
    return "Hospital discharge by update"


def _bulk_create(workstream):
    Workstream.objects.bulk_create(
        [
            Workstream(
                programme=workstream.programme,
                body=workstream.body,
                title="Hospital discharge in bulk",
                start_date=workstream.start_date,
            )
        ]
    )
    return "Hospital discharge in bulk"


def _raw_sql(workstream):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Workstream._meta.db_table} SET title = %s WHERE id = %s",
            ["Hospital discharge by SQL", workstream.pk],
        )
    return "Hospital discharge by SQL"


def _import(workstream):
    measure = f.MeasureFactory(code="ae-4hr", name="A&E within 4 hours")
    import_measurements(io.StringIO(f"measure,region,month,value\n{measure.code},,2019-04,87.5\n"), "ae.csv")
    return "87.5"


def _second_process(workstream):
    """A change made by another process of the portal (another web process or a worker) on the same database."""
    database = connection.settings_dict
    code = (
        "from programmes.models import Workstream; "
        f"Workstream.objects.filter(pk={workstream.pk}).update(title='Hospital discharge elsewhere')"
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.test",
    }
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], env=env, check=True, timeout=120)
    return "Hospital discharge elsewhere"


@pytest.mark.parametrize(
    ("url", "write"),
    [
        ("/workstreams/", _update),
        ("/workstreams/", _bulk_create),
        ("/workstreams/", _raw_sql),
        ("/measurements/", _import),
        ("/workstreams/", _second_process),
    ],
    ids=["queryset-update", "bulk-create", "raw-sql", "measurement-import", "second-process"],
)
def test_every_write_path_gives_the_page_a_new_version(client, staff, url, write):
    """Writes that leave no history entry (or come from another process) reach the page at once."""
    workstream = f.WorkstreamFactory(title="Discharge to assess")
    client.force_login(staff)
    status, etag, _ = read(client, url)
    assert status == 200 and read(client, url, etag)[0] == 304
    shown = write(workstream)
    status, again, text = read(client, url, etag)
    assert status == 200 and again != etag and shown in text
    status, plain, text = read(client, url)
    assert status == 200 and plain == again and shown in text


def test_a_report_run_that_changes_findings_reaches_the_findings(client, staff):
    appointment = f.AppointmentFactory()
    f.AppointmentShareFactory(appointment=appointment, fte_percent=60)  # shares that do not total 100
    client.force_login(staff)
    status, etag, before = read(client, "/findings/")
    assert status == 200
    run = ReportRun.objects.create(kind=ReportRun.Kind.CONSISTENCY)
    services.execute(run.pk)
    finding = Finding.objects.get(run=run, rule="appointment-shares")
    link = f'href="{finding.get_absolute_url()}"'
    assert link not in before
    status, again, text = read(client, "/findings/", etag)
    assert status == 200 and again != etag and link in text


def test_a_version_that_cannot_be_read_means_the_page_is_drawn(client, staff):
    f.ProgrammeFactory(title="Winter planning")
    client.force_login(staff)
    status, etag, _ = read(client, "/programmes/")
    # Whether read with who is asking or on its own: the versions' table gone. This module's tests commit
    # (transactional_db), so the table is put back whatever happens: every later test of the worker needs it.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE portal_data_version RENAME TO portal_data_version_away")
    try:
        response = client.get("/programmes/", HTTP_IF_NONE_MATCH=etag)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE portal_data_version_away RENAME TO portal_data_version")
    assert response.status_code == 200 and "Winter planning" in response.content.decode()
    assert not response.has_header("ETag")
