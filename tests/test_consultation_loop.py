"""The consultation loop on the pages and in the daily tasks: the closing date in the NHS.UK date input on the
page that opens it, the partners told, the reminder once to those who have not answered, the close once, the
author's My work, and partners' own notifications page. (Through a real worker and mail server:
tests/notifications/test_consultation_loop.py.)"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from asks import services as asks
from asks.models import Expectation, ExpectationResponse
from notifications.models import Notification
from organisations.models import Organisation
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London")
    programme = f.ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse, title="Urgent care")
    measure = f.MeasureFactory(code="ae-4h", name="A&E within four hours", unit="percent")
    author = f.UserFactory(username="sam.author", role=Role.STAFF, bodies=[nhse])
    draft = f.ExpectationFactory.build(
        programme=programme, issued_by=nhse, measure=measure, region=london, target=92, due_date=dt.date(2100, 3, 31)
    )
    draft._history_user = author  # the person who wrote it (simple_history)
    draft.save()
    trusts = [f.OrganisationFactory(region=london, name=f"London trust {n}") for n in range(2)]
    ccg = f.OrganisationFactory(region=london, kind=Organisation.Kind.CCG)
    partners = [f.UserFactory(role=Role.PARTNER, organisation=trust) for trust in trusts]
    return {
        "author": author,
        "other_staff": f.UserFactory(role=Role.STAFF, bodies=[nhsi]),
        "draft": draft,
        "trusts": trusts,
        "partners": partners,
        "ccg_partner": f.UserFactory(role=Role.PARTNER, organisation=ccg),
    }


def date_fields(day="", month="", year=""):
    return {"closes-day": day, "closes-month": month, "closes-year": year}


def consultation_like_the_draft(world, author, *, target, closes_in_days):
    """An ask for the draft's programme, measure and region with ``target``, saved by ``author`` and open for
    consultation until ``closes_in_days`` from today."""
    ask = f.ExpectationFactory.build(
        programme=world["draft"].programme,
        issued_by=world["draft"].issued_by,
        measure=world["draft"].measure,
        region=world["draft"].region,
        target=target,
        due_date=dt.date(2100, 3, 31),
    )
    ask._history_user = author
    ask.save()
    asks.open_consultation(ask, timezone.localdate() + dt.timedelta(days=closes_in_days))
    return ask


class TestOpeningOnThePage:
    def test_the_consultation_page_of_a_draft_asks_for_the_closing_date_with_the_date_input(self, client, world):
        client.force_login(world["author"])
        page = client.get(f"/consultations/{world['draft'].pk}/").content.decode()
        assert all(f'name="closes-{part}"' in page for part in ("day", "month", "year"))
        assert 'type="date"' not in page and "Open the consultation" in page
        record = client.get(world["draft"].get_absolute_url()).content.decode()
        assert 'name="closes-day"' in record and 'type="date"' not in record
        # Staff of the other body do not open it, so are not offered the form.
        client.force_login(world["other_staff"])
        assert 'name="closes-day"' not in client.get(f"/consultations/{world['draft'].pk}/").content.decode()

    @pytest.mark.parametrize(
        "given, message",
        [
            (date_fields(), "Enter the date the consultation closes."),
            (date_fields(day="30"), "The closing date must include a month and a year."),
            (date_fields("31", "2", "2100"), "The closing date must be a real date"),
            (date_fields("1", "1", "2000"), "The closing date must be in the future."),
        ],
    )
    def test_a_missing_or_wrong_date_is_named_and_kept_with_the_form(self, client, world, given, message):
        client.force_login(world["author"])
        response = client.post(f"/expectations/{world['draft'].pk}/consult/", given)
        page = response.content.decode()
        assert response.status_code == 400 and message in page
        assert 'class="nhsuk-error-summary"' in page and 'href="#closes-day"' in page
        assert 'name="closes-day"' in page and "nhsuk-input--error" in page  # the form is there to correct it
        for part, value in zip(("day", "month", "year"), given.values()):
            if value:
                assert re.search(rf'name="closes-{part}"[^>]*value="{value}"', page), part  # what was typed is kept
        assert Expectation.objects.get(pk=world["draft"].pk).stage == "draft"
        assert not Notification.objects.exists()

    def test_opening_tells_each_partner_of_the_organisations_it_applies_to(self, client, world):
        client.force_login(world["author"])
        closes = timezone.localdate() + dt.timedelta(days=21)
        response = client.post(
            f"/expectations/{world['draft'].pk}/consult/", date_fields(closes.day, closes.month, closes.year)
        )
        assert response.status_code == 302
        expectation = Expectation.objects.get(pk=world["draft"].pk)
        assert expectation.stage == "consultation" and expectation.consultation_closes == closes
        told = Notification.objects.filter(kind="consultation").order_by("user_id")
        assert [n.user for n in told] == world["partners"]  # not the CCG's partner: asked of providers
        assert all(n.delivery == "immediate" and "A&E within four hours" in n.text for n in told)
        # Each partner's page of what is asked of them says so, with the days left.
        client.force_login(world["partners"][0])
        page = client.get(f"/organisations/{world['trusts'][0].ods_code}/asks/").content.decode()
        assert 'id="open-consultations"' in page and "21 days left" in page
        assert f'href="/consultations/{expectation.pk}/"' in page


@pytest.fixture
def consulted(world):
    expectation = world["draft"]
    asks.open_consultation(expectation, timezone.localdate() + dt.timedelta(days=20))
    return expectation


class TestTheDailyTasks:
    def test_the_reminder_reaches_once_those_who_have_not_answered(self, world, consulted):
        answering, silent = world["partners"]
        asks.respond(consulted, answering, "agree", "")
        Notification.objects.all().delete()
        assert asks.remind_consultations() == 0  # 20 days before: too early
        today = consulted.consultation_closes - dt.timedelta(days=asks.REMIND_DAYS_BEFORE)
        assert asks.remind_consultations(today) == 1
        (reminder,) = Notification.objects.all()
        assert reminder.user == silent and reminder.text.startswith("Reminder: the consultation on A&E")
        assert asks.remind_consultations(today) == 0 and asks.remind_consultations(today + dt.timedelta(1)) == 0
        assert Notification.objects.count() == 1

    def test_it_closes_once_after_the_closing_date_and_tells_the_author_with_the_responses(self, world, consulted):
        first, second = world["partners"]
        asks.respond(consulted, first, "agree", "")
        asks.respond(consulted, second, "concerns", "Not without more beds.")
        assert asks.close_consultations(consulted.consultation_closes) == 0  # open all of its last day
        after = consulted.consultation_closes + dt.timedelta(days=1)
        assert asks.close_consultations(after) == 1 and asks.close_consultations(after) == 0
        (closed,) = Notification.objects.filter(user=world["author"], kind="consultation")
        assert "ready to agree" in closed.text
        assert "2 responses: 1 agree, 1 with concerns (London trust 1: “Not without more beds.”)" in closed.text


class TestResponsesReachTheAuthor:
    def test_a_response_tells_the_author_quoting_it_and_shows_on_their_my_work(self, client, world, consulted):
        client.force_login(world["partners"][1])
        response = client.post(
            f"/consultations/{consulted.pk}/", {"position": "concerns", "comment": "Not without more beds."}
        )
        assert response.status_code == 302
        (told,) = Notification.objects.filter(user=world["author"])
        assert told.kind == "response" and "London trust 1 has concerns" in told.text
        assert "“Not without more beds.”" in told.text and told.delivery == "immediate"
        client.force_login(world["author"])
        page = client.get("/my-work/").content.decode()
        section = page.split('id="my-consultations"')[1]
        assert "London trust 1" in section and "Not without more beds." in section
        client.force_login(world["other_staff"])
        section = client.get("/my-work/").content.decode().split('id="my-consultations"')[1]
        assert "Not without more beds." not in section and "No responses to consultations you wrote" in section


class TestPartnersNotifications:
    def test_a_partner_reads_their_own_notifications_only(self, client, world, consulted):
        mine, theirs = world["partners"]
        Notification.objects.filter(user=theirs).update(text="Someone else's notice")
        client.force_login(mine)
        for url in ("/notifications/", "/notifications/settings/"):
            assert client.get(url).status_code == 200, url
        page = client.get("/notifications/").content.decode()
        assert "A&amp;E within four hours" in page and "Someone else's notice" not in page
        assert ExpectationResponse.objects.count() == 0


class TestQueryCounts:
    def test_the_consultations_api_and_my_work_cost_the_same_for_2_consultations_as_for_6(self, client, world):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from rest_framework.test import APIClient

        author, partner = world["author"], world["partners"][0]

        def add(n):
            for i in range(n):
                ask = consultation_like_the_draft(world, author, target=90 + i, closes_in_days=10 + i)
                asks.respond(ask, partner, "concerns", f"Concern {i}")

        def cost():
            counts = []
            for user, url in ((partner, "/api/v1/consultations/"), (author, "/api/v1/consultations/")):
                api = APIClient()
                api.force_authenticate(type(user).objects.get(pk=user.pk))  # its roles read afresh, as each request
                with CaptureQueriesContext(connection) as queries:
                    assert api.get(url).status_code == 200
                counts.append(len(queries))
            client.force_login(author)
            client.get("/my-work/")
            with CaptureQueriesContext(connection) as queries:
                page = client.get("/my-work/").content.decode()
            counts.append(len(queries))
            return counts, page.count('id="my-consultation-response-')

        add(2)
        few, shown = cost()
        assert shown == 2
        add(4)
        many, shown = cost()
        assert shown == 6 and many == few, (few, many)


class TestTheConsultationsList:
    def test_it_is_paginated_as_every_api_list_and_documented_so(self, world):
        from rest_framework.test import APIClient

        author, partner = world["author"], world["partners"][0]
        opened = []
        for i in range(5):
            opened.append(consultation_like_the_draft(world, author, target=80 + i, closes_in_days=10 + i).pk)
        asks.respond(Expectation.objects.get(pk=opened[0]), partner, "concerns", "Too soon for us")
        for user in (author, partner):
            api = APIClient()
            api.force_authenticate(user)
            whole = api.get("/api/v1/consultations/").json()
            assert set(whole) == {"count", "count_exact", "next", "previous", "results"}, whole
            assert whole["count"] == 5 and whole["count_exact"] and whole["next"] is None
            assert sorted(c["id"] for c in whole["results"]) == sorted(opened)
            first = api.get("/api/v1/consultations/", {"page_size": 2}).json()
            assert [c["id"] for c in first["results"]] == [c["id"] for c in whole["results"][:2]]
            assert "page=2" in first["next"] and first["previous"] is None
            last = api.get("/api/v1/consultations/", {"page_size": 2, "page": 3}).json()
            assert [c["id"] for c in last["results"]] == [whole["results"][4]["id"]] and last["next"] is None
            assert api.get("/api/v1/consultations/", {"page_size": 2, "page": 4}).status_code == 404
            for bad, name in (({"page": "first"}, "page"), ({"page_size": "501"}, "page_size")):
                refused = api.get("/api/v1/consultations/", bad)
                assert refused.status_code == 400 and name in refused.json(), refused.content
        # Each with its responses: the partner's own, every one for staff.
        api = APIClient()
        api.force_authenticate(partner)
        answered = next(c for c in api.get("/api/v1/consultations/").json()["results"] if c["id"] == opened[0])
        assert [r["comment"] for r in answered["responses"]] == ["Too soon for us"]
        # The schema says so: the page parameters and the paginated answer.
        api.force_authenticate(author)
        operation = api.get("/api/schema/?format=json").json()["paths"]["/api/v1/consultations/"]["get"]
        assert {"page", "page_size"} <= {p["name"] for p in operation["parameters"]}
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert answer.startswith("Paginated"), answer
