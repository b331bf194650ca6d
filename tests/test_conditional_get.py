"""Lists and record pages answer 304 Not Modified while nothing they show has changed, and a new page
(with a new ETag) once anything has: the record, what it refers to, or what refers to it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


def again(client, url, etag):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    return response, ctx.captured_queries


@pytest.mark.parametrize("url", ["/workstreams/", "/workstreams/?q=discharge", "/programmes/", "{programme}"])
def test_a_current_copy_is_not_drawn_again(client, staff, nhse, url):
    programme = f.ProgrammeFactory(title="Urgent care", bodies=[nhse])
    workstream = f.WorkstreamFactory(programme=programme, title="Discharge to assess", body=nhse)
    url = url.format(programme=programme.get_absolute_url())
    client.force_login(staff)
    first = client.get(url)
    etag = first["ETag"]
    response, queries = again(client, url, etag)
    assert response.status_code == 304 and not response.content
    assert not any('programmes_workstream"."title' in q["sql"] for q in queries)  # nothing read for the page
    # A change to a record the page refers to: the programme's title, shown in the workstream list.
    programme.title = "Urgent and emergency care"
    programme.save()
    changed, _ = again(client, url, etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    workstream.description = "Discharge home first"
    workstream.save()
    assert again(client, url, changed["ETag"])[0].status_code == 200


def test_another_person_or_query_never_shares_a_tag(client, staff, nhse):
    f.ProgrammeFactory(bodies=[nhse])
    client.force_login(staff)
    etag = client.get("/programmes/")["ETag"]
    assert client.get("/programmes/?status=active")["ETag"] != etag
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    assert client.get("/programmes/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_api_lists_answer_304_while_current(staff, nhse):
    from rest_framework.test import APIClient

    workstream = f.WorkstreamFactory(title="Discharge to assess", body=nhse)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    first = client.get("/api/v1/workstreams/")
    etag = first["ETag"]
    assert client.get("/api/v1/workstreams/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    workstream.title = "Discharge home first"
    workstream.save()
    changed = client.get("/api/v1/workstreams/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["results"][0]["title"] == "Discharge home first"


def test_the_users_list_follows_new_users(client, nhse):
    admin = f.UserFactory(role="Administrator", bodies=[nhse])
    client.force_login(admin)
    first = client.get("/users/")
    etag = first["ETag"]
    assert client.get("/users/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    f.UserFactory(role="Staff", bodies=[nhse], username="new.person")
    again = client.get("/users/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and "new.person" in again.content.decode()
