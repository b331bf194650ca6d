"""Only what you may see: watching, notifications and mentions ask whether the person may see the record.

Each test here failed on the portal before the rule (nhs_joint.permissions.can_see): watching another
person's job named it, the API's answer told whether a job id existed, a watch on a user account brought
an Administrator's changes to it, and a mention on a draft told a partner its name and link.
"""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from accounts.models import Role
from jobs.models import Job
from notifications.models import Notification, Watch
from tests import factories as f
from tests.conftest import create_roles

pytestmark = pytest.mark.django_db


def api_for(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(user)}")
    return api


@pytest.fixture
def world(nhse, nhsi):
    create_roles()
    owner = f.UserFactory(username="olu.owner", role=Role.STAFF, bodies=[nhse])
    other = f.UserFactory(username="sam.staff", role=Role.STAFF, bodies=[nhse])
    admin = f.UserFactory(username="ada.admin", role=Role.ADMINISTRATOR, bodies=[nhse])
    job = Job.objects.create(
        kind=Job.Kind.IMPORT, runner="measurement-import", title="Import of secret-board-figures-Q3.csv", owner=owner
    )
    return {"owner": owner, "other": other, "admin": admin, "job": job, "nhse": nhse}


def watches(user):
    return set(Watch.objects.filter(user=user, active=True).values_list("content_type__model", "object_id"))


class TestWatching:
    def test_another_persons_job_is_answered_as_if_it_did_not_exist(self, client, world):
        job = world["job"]
        client.force_login(world["other"])
        theirs = client.post("/watching/", {"type": "jobs.job", "id": job.pk, "next": "/"}, follow=True)
        missing = client.post("/watching/", {"type": "jobs.job", "id": job.pk + 1000, "next": "/"}, follow=True)
        assert theirs.status_code == missing.status_code == 404
        assert "secret-board-figures" not in theirs.content.decode()
        assert watches(world["other"]) == set()

        # Its owner watches it.
        client.force_login(world["owner"])
        mine = client.post("/watching/", {"type": "jobs.job", "id": job.pk, "next": "/"}, follow=True)
        assert mine.status_code == 200 and "You are watching Import of secret-board-figures-Q3.csv" in (
            mine.content.decode()
        )
        assert watches(world["owner"]) == {("job", job.pk)}

    def test_the_api_gives_one_answer_for_a_job_that_is_not_yours_and_one_that_does_not_exist(self, world):
        job = world["job"]
        api = api_for(world["other"])
        theirs = api.post("/api/v1/watches/", {"type": "jobs.job", "id": job.pk}, format="json")
        missing = api.post("/api/v1/watches/", {"type": "jobs.job", "id": job.pk + 1000}, format="json")
        assert theirs.status_code == missing.status_code == 400
        assert theirs.json() == missing.json() == {"id": ["No record of this type has this id."]}
        assert watches(world["other"]) == set()
        # Stopping is answered alike.
        stop = api.post("/api/v1/watches/stop/", {"type": "jobs.job", "id": job.pk}, format="json")
        assert stop.status_code == 400 and stop.json() == missing.json()

        mine = api_for(world["owner"]).post("/api/v1/watches/", {"type": "jobs.job", "id": job.pk}, format="json")
        assert mine.status_code == 201, mine.content

    def test_user_accounts_are_watched_by_administrators_only(self, client, world):
        account = world["owner"]
        client.force_login(world["other"])
        assert client.post("/watching/", {"type": "accounts.user", "id": account.pk}).status_code == 404
        refused = api_for(world["other"]).post(
            "/api/v1/watches/", {"type": "accounts.user", "id": account.pk}, format="json"
        )
        assert refused.status_code == 400
        assert watches(world["other"]) == set()
        allowed = api_for(world["admin"]).post(
            "/api/v1/watches/", {"type": "accounts.user", "id": account.pk}, format="json"
        )
        assert allowed.status_code == 201, allowed.content

    def test_a_watch_kept_from_before_tells_nobody_of_what_they_may_not_see(self, client, world):
        """A watch started before the rule (or by someone who has since lost a role) is asked again at send time."""
        account = world["owner"]
        user_type = ContentType.objects.get_for_model(account)
        Watch.objects.create(user=world["other"], content_type=user_type, object_id=account.pk)
        Watch.objects.create(user=world["admin"], content_type=user_type, object_id=account.pk)
        second_admin = f.UserFactory(username="bo.admin", role=Role.ADMINISTRATOR, bodies=[world["nhse"]])
        Watch.objects.create(user=second_admin, content_type=user_type, object_id=account.pk)

        client.force_login(world["admin"])
        response = client.post(f"/users/{account.pk}/deactivate/")
        assert response.status_code == 302, response.content
        account.refresh_from_db()
        assert not account.is_active
        told = set(Notification.objects.filter(object_id=account.pk, content_type=user_type).values_list("user_id"))
        assert told == {(second_admin.pk,)}  # not the member of staff; the administrator who did it is not told


class TestMentions:
    @pytest.fixture
    def asks(self, world, nhse):
        region = f.RegionFactory()
        trust = f.OrganisationFactory(region=region, name="Riverside NHS Trust")
        elsewhere = f.OrganisationFactory(region=region, name="Hillside NHS Trust", kind="ccg")
        partner = f.UserFactory(username="partner.a", role=Role.PARTNER, organisation=trust)
        commissioner = f.UserFactory(username="partner.b", role=Role.PARTNER, organisation=elsewhere)
        programme = f.ProgrammeFactory(bodies=[nhse], accountable_body=nhse)
        draft = f.ExpectationFactory(
            programme=programme,
            issued_by=nhse,
            audience="providers",
            region=None,
            start_date=dt.date(2019, 4, 1),
            due_date=dt.date(2100, 3, 31),
        )
        return {"partner": partner, "commissioner": commissioner, "draft": draft}

    def mention(self, client, author, expectation, capture):
        client.force_login(author)
        with capture(execute=True):  # the comment is announced once it is committed
            response = client.post(
                f"/comments/expectation/{expectation.pk}/",
                {"text": "@partner.a @partner.b @olu.owner: are these figures right?"},
            )
        assert response.status_code == 302, response.content

    def told(self, kind="mentioned"):
        return set(Notification.objects.filter(kind=kind).values_list("user__username", "delivery"))

    def test_a_mention_on_a_draft_tells_staff_and_no_partner(
        self, client, world, asks, django_capture_on_commit_callbacks
    ):
        self.mention(client, world["other"], asks["draft"], django_capture_on_commit_callbacks)
        assert self.told() == {("olu.owner", "immediate")}

    def test_a_mention_reaches_a_partner_once_the_expectation_is_consulted_on_for_their_organisation(
        self, client, world, asks, django_capture_on_commit_callbacks
    ):
        draft = asks["draft"]
        draft.stage = "consultation"
        draft.consultation_closes = dt.date.today() + dt.timedelta(days=14)
        draft.save()
        self.mention(client, world["other"], draft, django_capture_on_commit_callbacks)
        # The commissioner is not asked by an expectation for providers: they are not told of it.
        assert self.told() == {("olu.owner", "immediate"), ("partner.a", "immediate")}

        Notification.objects.all().delete()
        draft.archive()
        self.mention(client, world["other"], draft, django_capture_on_commit_callbacks)
        assert self.told() == {("olu.owner", "immediate")}
