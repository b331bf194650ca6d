"""Who is asking is read in one query (accounts/sessions.py): the session, the person, their roles and bodies and
the data's versions. The session's row and the person's are read on every request, so a session ended or a person
deactivated anywhere is refused at once, and what this process remembers of a session (whose it was) is only
ever a hint that the session's own data confirms."""

import re

import pytest
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import sessions
from accounts.models import User
from accounts.sessions import SessionStore
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_page_cache():
    caches["pages"].clear()


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


def queries_of(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, [q["sql"] for q in ctx.captured_queries]


def test_a_kept_page_and_a_304_cost_one_query(client, staff, nhse):
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client.force_login(staff)
    client.get("/workstreams/")  # the browser's first visit: it gets its CSRF secret
    first = client.get("/workstreams/")
    kept, queries = queries_of(client, "/workstreams/")
    assert kept.status_code == 200 and "Discharge to assess" in kept.content.decode()
    assert len(queries) == 1, queries
    assert all(re.search(rf'"{table}"|\b{table}\b', queries[0]) for table in ("django_session", "accounts_user"))
    assert "portal_data_version" in queries[0] and "notifications_notification" in queries[0]
    with CaptureQueriesContext(connection) as ctx:
        not_modified = client.get("/workstreams/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304 and len(ctx.captured_queries) == 1


def test_a_kept_api_list_costs_one_query(staff, nhse):
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    client.get("/api/v1/workstreams/")
    kept, queries = queries_of(client, "/api/v1/workstreams/")
    assert kept.status_code == 200 and kept.json()["results"][0]["title"] == "Discharge to assess"
    assert len(queries) == 1 and "accounts_apitoken" in queries[0], queries


def test_a_person_deactivated_behind_the_portals_back_is_refused_at_once(client, staff):
    client.force_login(staff)
    assert client.get("/programmes/").status_code == 200
    assert client.get("/programmes/").status_code == 200  # the session's person now read with it
    User.objects.filter(pk=staff.pk).update(is_active=False)  # as a bulk change would, past save()
    assert client.get("/programmes/")["Location"].startswith("/accounts/login/")


def test_a_session_ended_elsewhere_is_refused_at_once(client, staff):
    client.force_login(staff)
    assert client.get("/programmes/").status_code == 200
    assert client.get("/programmes/").status_code == 200
    # Signed out in another web process: the row is gone, whatever this process remembers of it.
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get("/programmes/")["Location"].startswith("/accounts/login/")


def test_the_session_says_whose_it_is_not_what_this_process_remembers(client, staff, nhse):
    other = f.UserFactory(role="Staff", bodies=[nhse], first_name="Alex", last_name="Other")
    client.force_login(staff)
    assert "Sam Staff" in client.get("/programmes/").content.decode()
    # The same session's data now names someone else (a key this process has seen, another person's data).
    session = SessionStore(client.session.session_key)
    session[SESSION_KEY] = str(other.pk)
    session[HASH_SESSION_KEY] = other.get_session_auth_hash()
    session.save()
    page = client.get("/programmes/").content.decode()
    assert "Alex Other" in page and "Sam Staff" not in page


def test_a_new_password_elsewhere_ends_this_session_at_once(client, staff):
    client.force_login(staff)
    assert client.get("/programmes/").status_code == 200
    assert client.get("/programmes/").status_code == 200
    person = User.objects.get(pk=staff.pk)
    person.set_password("another long password for the test")
    person.save()
    assert client.get("/programmes/")["Location"].startswith("/accounts/login/")


def test_the_first_request_of_a_session_in_a_process_costs_what_the_next_do(client, staff, settings):
    settings.PAGE_CACHE_SECONDS = 0  # every request drawn
    client.force_login(staff)
    client.get("/programmes/")  # what this process draws once for every session (the filters' choices)
    counts = []
    for _ in range(2):
        client.force_login(staff)  # a new session: its first request, then the next
        counts += [len(queries_of(client, "/programmes/")[1]), len(queries_of(client, "/programmes/")[1])]
        sessions._owners.clear()  # a web process that has not seen this session (another worker, a restart)
        counts.append(len(queries_of(client, "/programmes/")[1]))
    assert len(set(counts)) == 1, counts


def test_a_session_kept_as_django_keeps_it_is_read_all_the_same(client, staff):
    # Written before the person's id was kept with it, or by Django's own store: joined to its person once seen.
    session = DjangoSessionStore()
    session[SESSION_KEY] = str(staff.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
    session.create()
    client.cookies["sessionid"] = session.session_key
    assert "Sam Staff" in client.get("/programmes/").content.decode()
    client.get("/programmes/")  # with the browser's CSRF secret: the drawing kept
    kept, queries = queries_of(client, "/programmes/")
    assert "Sam Staff" in kept.content.decode() and len(queries) == 1, queries


def break_the_versions():
    """The data's versions cannot be read (inside the test's transaction, which puts them back)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE portal_data_version RENAME TO portal_data_version_away")


def test_a_version_that_cannot_be_read_draws_the_page_all_the_same(client, staff, nhse):
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client.force_login(staff)
    assert client.get("/workstreams/").status_code == 200
    break_the_versions()
    for _ in range(2):  # with nothing kept, then with the session's person known to this process
        page = client.get("/workstreams/")
        assert page.status_code == 200 and "Discharge to assess" in page.content.decode()
        assert "Sam Staff" in page.content.decode() and not page.has_header("ETag")  # drawn, without a tag
    Session.objects.filter(session_key=client.session.session_key).delete()  # and the session still checked
    assert client.get("/workstreams/")["Location"].startswith("/accounts/login/")


def test_a_version_that_cannot_be_read_answers_the_api_all_the_same(staff, nhse):
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    assert client.get("/api/v1/workstreams/").status_code == 200
    break_the_versions()
    listed = client.get("/api/v1/workstreams/")
    assert listed.status_code == 200 and listed.json()["results"][0]["title"] == "Discharge to assess"
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token-of-anyones-at-all-0123456789")
    assert client.get("/api/v1/workstreams/").status_code == 401
