"""A record chosen from a long list (more than AUTOCOMPLETE_INLINE_LIMIT): the page holds only the chosen one,
and the others are suggested as people type by /suggest/<app.model>/ (nhs_joint/suggest.py)."""

import json
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/suggest/programmes.programme/?key=slug&q="


@pytest.fixture(autouse=True)
def few_inline(settings):
    settings.AUTOCOMPLETE_INLINE_LIMIT = 3
    caches["pages"].clear()


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


@pytest.fixture
def programmes(nhse):
    urgent = f.ProgrammeFactory(title="Urgent care", slug="urgent-care", bodies=[nhse], accountable_body=nhse)
    winter = f.ProgrammeFactory(title="Winter resilience", slug="winter", bodies=[nhse], accountable_body=nhse)
    others = [f.ProgrammeFactory(title=f"Cancer {i}", bodies=[nhse], accountable_body=nhse) for i in range(3)]
    return {"urgent": urgent, "winter": winter, "others": others}


def select_html(html, name):
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', html, re.S)
    assert match, name
    return match.group(0)


def options(select):
    return re.findall(r'<option value="([^"]*)"[^>]*>\s*([^<]*?)\s*</option>', select)


def suggest(client, q, url=URL):
    response = client.get(url + q)
    return response, (json.loads(response.content) if response["Content-Type"] == "application/json" else None)


def test_a_long_list_holds_only_the_chosen_record_and_names_its_suggestions(client, staff, programmes, nhse):
    f.WorkstreamFactory(programme=programmes["winter"], title="Winter discharge", body=nhse)
    f.WorkstreamFactory(programme=programmes["urgent"], title="Same day emergency care", body=nhse)
    client.force_login(staff)

    select = select_html(client.get("/workstreams/").content.decode(), "programme")
    assert options(select) == [("", "Any programme")]
    assert 'data-source="/suggest/programmes.programme/?key=slug"' in select
    assert 'data-module="autocomplete"' in select
    # Without JavaScript the select keeps the one chosen, and says how to choose another.
    assert "To choose another programme, turn on JavaScript" in client.get("/workstreams/").content.decode()

    # A link naming a programme (any case) shows it chosen, and still filters.
    html = client.get("/workstreams/?programme=WINTER").content.decode()
    select = select_html(html, "programme")
    assert options(select) == [("", "Any programme"), ("winter", "Winter resilience")]
    assert re.search(r'<option value="winter"\s+selected', select)
    assert "Winter discharge" in html and "Same day emergency care" not in html


def test_a_short_list_draws_every_record(client, staff, programmes, settings):
    settings.AUTOCOMPLETE_INLINE_LIMIT = 5  # exactly as many programmes as there are
    client.force_login(staff)
    html = client.get("/workstreams/").content.decode()
    select = select_html(html, "programme")
    assert "data-source" not in select and "turn on JavaScript" not in html
    assert len(options(select)) == 6 and ("winter", "Winter resilience") in options(select)


def test_an_edit_form_holds_only_the_chosen_record(client, staff, programmes, nhse):
    workstream = f.WorkstreamFactory(programme=programmes["winter"], title="Winter discharge", body=nhse)
    client.force_login(staff)
    html = client.get(f"/workstreams/{workstream.pk}/edit/").content.decode()
    select = select_html(html, "programme")
    key = programmes["winter"].pk
    assert options(select) == [("", "Not chosen"), (str(key), "Winter resilience")]
    assert 'data-source="/suggest/programmes.programme/?key=id"' in select, select
    # The key suggested is the one the form sends.
    response, results = suggest(client, "winter", "/suggest/programmes.programme/?key=id&q=")
    assert results == [{"value": str(key), "label": "Winter resilience"}]


def test_suggestions_match_as_typed_live_records_only(client, staff, programmes):
    client.force_login(staff)
    response, results = suggest(client, "urg")
    assert response.status_code == 200
    assert results == [{"value": "urgent-care", "label": "Urgent care"}]
    assert suggest(client, "winter resil")[1] == [{"value": "winter", "label": "Winter resilience"}]
    assert suggest(client, "nothing like it")[1] == []

    programmes["urgent"].archive()
    assert suggest(client, "urg")[1] == []


def test_suggestions_are_at_most_twenty_in_a_constant_number_of_queries(client, staff, nhse):
    client.force_login(staff)
    for i in range(3):
        f.ProgrammeFactory(title=f"Mental health {i}", bodies=[nhse], accountable_body=nhse)
    client.get(URL + "mental")  # the session and the person are read once before counting
    with CaptureQueriesContext(connection) as few:
        response, results = suggest(client, "mental")
    assert len(results) == 3
    for i in range(3, 25):
        f.ProgrammeFactory(title=f"Mental health {i}", bodies=[nhse], accountable_body=nhse)
    with CaptureQueriesContext(connection) as many:
        response, results = suggest(client, "mental")
    assert len(results) == 20
    assert all(r["label"].startswith("Mental health") for r in results)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_bad_questions_are_answered_400_naming_q(client, staff, programmes):
    client.force_login(staff)
    response, body = suggest(client, "a" * 101)
    assert response.status_code == 400 and "q" in body["detail"].split()
    assert suggest(client, "a" * 100)[0].status_code == 200
    assert suggest(client, "%00")[0].status_code == 400
    assert suggest(client, "urg", "/suggest/programmes.programme/?key=title&q=")[0].status_code == 400
    assert suggest(client, "urg", "/suggest/programmes.programme/?key=nonsense&q=")[0].status_code == 400
    # Punctuation alone, or tsquery syntax, is words or nothing: never an error.
    for q in ["!!", "a & b | !c", "'", ":*", "urg:*"]:
        assert suggest(client, q.replace("&", "%26"))[0].status_code == 200, q
    # Only the kinds of record chosen from such lists.
    assert client.get("/suggest/accounts.user/?q=a").status_code == 404
    assert client.get("/suggest/nothing/?q=a").status_code == 404


def test_signed_out_and_partners_are_refused(client, programmes, nhse):
    response = client.get(URL + "urg")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    organisation = f.OrganisationFactory()
    partner = f.UserFactory(role=Role.PARTNER, username="partner", organisation=organisation)
    client.force_login(partner)
    response = client.get(URL + "urg")
    assert response.status_code == 403
    assert b"Urgent care" not in response.content


def test_a_list_narrowed_by_a_field_with_choices_is_suggested_narrowed_so(client, staff, programmes):
    """The senior responsible owner is chosen among directors' appointments: only those are suggested."""
    for i in range(4):
        f.AppointmentFactory(person=f.PersonFactory(name=f"Dana Director {i}"), title="Programme director")
    officer = f.AppointmentFactory(person=f.PersonFactory(name="Dana Officer"), title="Officer", role="other")
    owner = f.AppointmentFactory(
        person=f.PersonFactory(name="Olu Owner"), title="National director", role="national_director"
    )
    programme = programmes["winter"]
    programme.senior_responsible_owner = owner
    programme.save()
    client.force_login(staff)

    select = select_html(client.get(f"/programmes/{programme.slug}/edit/").content.decode(), "senior_responsible_owner")
    assert options(select) == [("", "Not chosen"), (str(owner.pk), "Olu Owner: National director")]
    source = re.search(r'data-source="([^"]+)"', select).group(1).replace("&amp;", "&")
    assert source == "/suggest/appointments.appointment/?key=id&role=national_director&role=programme_director"

    response, results = suggest(client, "dana", source + "&q=")
    assert response.status_code == 200
    assert {r["label"] for r in results} == {f"Dana Director {i}: Programme director" for i in range(4)}
    assert str(officer.pk) not in {r["value"] for r in results}
    # Only fields with choices narrow the suggestions.
    response, body = suggest(client, "dana", "/suggest/appointments.appointment/?key=id&title=Officer&q=")
    assert response.status_code == 400 and "title" in body["detail"]


def test_a_list_narrowed_otherwise_keeps_its_options(programmes):
    from appointments.models import Appointment
    from nhs_joint.suggest import narrowing
    from programmes.models import Programme

    assert narrowing(Programme.objects.order_by("title").only("slug", "title")) == {}
    assert narrowing(Appointment.objects.filter(role__in=["other"])) == {"role": ["other"]}
    assert narrowing(Appointment.objects.filter(role="other")) == {"role": ["other"]}
    assert narrowing(Programme.objects.filter(title__startswith="U")) is None
    assert narrowing(Programme.all_objects.all()) is None  # archived ones too: not what the suggestions offer
