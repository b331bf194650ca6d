"""A page or API list asked for again before anything it shows has changed is answered from the drawing kept
for it (nhs_joint/conditional.py), never from someone else's, never with a stale nonce, count or message."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from notifications.models import Notification
from tests import factories as f

pytestmark = pytest.mark.django_db

NONCE = re.compile(r'nonce="([^"]+)"')


@pytest.fixture(autouse=True)
def empty_page_cache():
    caches["pages"].clear()


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


def get(client, url, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    return response, [q["sql"] for q in ctx.captured_queries]


def reads(queries, table):
    return any(re.search(rf'\b(FROM|JOIN) "?{table}"?[\s)]', sql) for sql in queries)


@pytest.mark.parametrize("url", ["/workstreams/", "/workstreams/?q=discharge", "{programme}"])
def test_a_page_asked_again_is_not_drawn_again_and_gets_a_new_nonce(client, staff, nhse, url):
    programme = f.ProgrammeFactory(title="Urgent care", bodies=[nhse])
    f.WorkstreamFactory(programme=programme, title="Discharge to assess", body=nhse)
    url = url.format(programme=programme.get_absolute_url())
    client.force_login(staff)
    client.get(url)  # the browser's first visit: it has no CSRF secret yet, so that drawing is not kept
    first, first_queries = get(client, url)
    second, queries = get(client, url)
    assert first.status_code == second.status_code == 200
    assert reads(first_queries, "programmes_workstream") and not reads(queries, "programmes_workstream")
    assert len(queries) <= 4, queries  # who is asking (session, person, roles and bodies), the data's version
    # The same page, but each response has its own nonce, the one its CSP header allows.
    nonces = [set(NONCE.findall(r.content.decode())) for r in (first, second)]
    assert all(len(n) == 1 for n in nonces) and nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces):
        assert f"'nonce-{next(iter(nonce))}'" in response["Content-Security-Policy"]
    assert NONCE.sub("", first.content.decode()) == NONCE.sub("", second.content.decode())
    assert second["ETag"] == first["ETag"]


def test_a_change_is_drawn_at_once(client, staff, nhse):
    programme = f.ProgrammeFactory(title="Urgent care", bodies=[nhse])
    client.force_login(staff)
    assert "Urgent care" in client.get("/programmes/").content.decode()
    programme.title = "Urgent and emergency care"
    programme.save()
    assert "Urgent and emergency care" in client.get("/programmes/").content.decode()


def test_another_person_never_gets_my_drawing(staff, nhse):
    f.ProgrammeFactory(bodies=[nhse])
    mine, theirs = Client(), Client()
    mine.force_login(staff)
    other = f.UserFactory(role="Staff", bodies=[nhse], first_name="Alex", last_name="Other")
    theirs.force_login(other)
    assert "Sam Staff" in mine.get("/programmes/").content.decode()
    page = theirs.get("/programmes/").content.decode()
    assert "Alex Other" in page and "Sam Staff" not in page


def test_a_new_notification_shows_in_the_header_at_once(client, staff, nhse):
    f.ProgrammeFactory(bodies=[nhse])
    client.force_login(staff)
    first = client.get("/programmes/")
    assert "unread)" not in first.content.decode()
    Notification.objects.create(user=staff, kind="assigned", text="A finding for you", url="/")
    page = client.get("/programmes/").content.decode()
    assert "Notifications (1 unread)" in page
    # A client holding the old page is not told it is current.
    assert client.get("/programmes/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_forms_on_a_kept_page_work_and_a_message_is_shown_once(staff, nhse):
    """The watch button's form (with a CSRF token) on a record's page served from its drawing still submits;
    the message it leaves is shown on the next page only, never kept in a drawing."""
    programme = f.ProgrammeFactory(bodies=[nhse])
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    url = programme.get_absolute_url()
    client.get(url)  # sets the browser's CSRF secret
    client.get(url)
    cached, queries = get(client, url)
    assert not reads(queries, "programmes_programme")
    form = re.search(r'<form method="post" action="([^"]*watch[^"]*)">(.*?)</form>', cached.content.decode(), re.S)
    assert form, "the page has the watch form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    assert "csrfmiddlewaretoken" in fields
    assert client.post(form.group(1), fields).status_code == 302
    page = client.get(url).content.decode()
    assert "You are watching" in page and "You are watching this." in page
    again = client.get(url).content.decode()
    assert "You are watching this." in again and "Its changes, comments and findings will be sent" not in again


def test_a_page_for_a_browser_without_a_csrf_secret_is_not_kept(staff, nhse):
    programme = f.ProgrammeFactory(bodies=[nhse])
    client = Client()
    client.force_login(staff)
    url = programme.get_absolute_url()
    client.get(url)
    client.cookies.pop("csrftoken", None)  # as a client that keeps no cookie but the session
    _, queries = get(client, url)
    assert reads(queries, "programmes_programme")


def test_the_api_list_is_served_from_its_drawing_with_one_token_lookup(staff, nhse):
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    first, first_queries = get(client, "/api/v1/workstreams/")
    second, queries = get(client, "/api/v1/workstreams/")
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert reads(first_queries, "programmes_workstream") and not reads(queries, "programmes_workstream")
    assert sum('FROM "accounts_apitoken"' in q for q in first_queries) == 1  # looked up once, not twice
    assert len(queries) <= 2, queries  # the token with its person, roles and bodies; the data's version


def test_the_dashboard_is_kept_until_a_figure_changes(client, nhse):
    import datetime as dt

    region = f.RegionFactory(ods_code="Y56", name="London")
    measure = f.MeasureFactory(name="A&E within four hours")
    programme = f.ProgrammeFactory(bodies=[nhse])
    f.RegionalDeliveryFactory(programme=programme, region=region)
    f.ProgrammeMeasureFactory(programme=programme, measure=measure, target=90)
    figures = [
        f.MeasurementFactory(measure=measure, region=region, month=dt.date(2024, 1 + i, 1), value=80 + i)
        for i in range(12)
    ]
    director = f.UserFactory(role="Regional director", region=region, bodies=[nhse])
    client.force_login(director)
    url = region.get_absolute_url()
    first, rendered = get(client, url)  # the dashboard has no form: kept at once
    cached, queries = get(client, url)
    assert reads(rendered, "programmes_measurement") and not reads(queries, "programmes_measurement")
    assert NONCE.sub("", cached.content.decode()) == NONCE.sub("", first.content.decode())
    figures[-1].value = 57.5
    figures[-1].save()
    changed, queries = get(client, url)
    assert reads(queries, "programmes_measurement") and "57.5" in changed.content.decode()


def test_a_304_keeps_the_browsers_policy(client, staff, nhse):
    """A 304 carries no CSP header: the browser keeps the one stored with its copy, whose nonce it holds."""
    f.ProgrammeFactory(bodies=[nhse])
    client.force_login(staff)
    etag = client.get("/programmes/")["ETag"]
    response = client.get("/programmes/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and "Content-Security-Policy" not in response


def test_nothing_is_kept_when_turned_off(client, staff, nhse, settings):
    settings.PAGE_CACHE_SECONDS = 0
    f.WorkstreamFactory(body=nhse)
    client.force_login(staff)
    client.get("/workstreams/")
    client.get("/workstreams/")
    _, queries = get(client, "/workstreams/")
    assert reads(queries, "programmes_workstream")


@pytest.mark.usefixtures("render_every_time")
def test_a_filters_records_to_choose_from_follow_the_data(client, staff, nhse):
    """The programmes offered by the workstreams' filter are drawn once per version of the programmes' data
    (nhs_joint/jinja2.py), not read on every page: a new or renamed programme is offered at once."""
    urgent = f.ProgrammeFactory(title="Urgent care", bodies=[nhse])
    client.force_login(staff)
    assert ">Urgent care</option>" in client.get("/workstreams/").content.decode()
    _, queries = get(client, "/workstreams/")
    assert not any('"programmes_programme"."title"' in q and "ORDER BY" in q and "LIMIT" not in q for q in queries)
    f.ProgrammeFactory(title="Elective recovery", bodies=[nhse])
    urgent.title = "Urgent and emergency care"
    urgent.save()
    page = client.get("/workstreams/").content.decode()
    assert ">Elective recovery</option>" in page and ">Urgent and emergency care</option>" in page
    assert ">Urgent care</option>" not in page


def test_drawings_can_be_shared_through_redis(client, staff, nhse, settings):
    """With PAGE_CACHE_URL naming Redis, what one web process drew serves the others (here: after the
    process's own copy is gone, since the test has one process)."""
    broker = settings.CELERY_BROKER_URL.rsplit("/", 1)[0]
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{broker}/9",
            "KEY_PREFIX": f"test-{staff.pk}",
            "TIMEOUT": 60,
        },
    }
    caches["pages"].clear()
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client.force_login(staff)
    client.get("/workstreams/")
    first = client.get("/workstreams/")
    cached, queries = get(client, "/workstreams/")
    assert not reads(queries, "programmes_workstream")
    assert NONCE.sub("", cached.content.decode()) == NONCE.sub("", first.content.decode())
    caches["pages"].clear()


def test_pages_are_drawn_when_the_kept_drawings_are_away(client, staff, nhse, settings):
    """PAGE_CACHE_URL naming a Redis that does not answer (a closed port on this machine): pages are drawn."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed}/0",
        },
    }
    f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client.force_login(staff)
    for _ in range(3):
        response = client.get("/workstreams/")
        assert response.status_code == 200 and "Discharge to assess" in response.content.decode()
