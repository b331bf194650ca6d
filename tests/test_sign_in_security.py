"""Credentials that end (issue #14): API tokens per device that expire and are revoked, the password
change enforced on the API too, and a lockout after failed sign-ins.

Each class answers one problem found by probing the portal as an attacker would:
1. tokens never ended (the same one every time; it outlived sign-out, a password change, a one-time
   password and deactivation; a reactivated user's old session worked again);
2. a one-time password got a token that could write without the password ever being changed;
3. nothing limited wrong passwords on the sign-in page, the token endpoint or Django admin.
"""

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, User
from tests import factories as f
from tests.factories import token_for

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
TOKEN_URL = "/api/v1/auth/token/"


def api(token=None, address="127.0.0.1"):
    client = APIClient(REMOTE_ADDR=address)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def get_token(username, password=PASSWORD, name=None, address="127.0.0.1"):
    body = {"username": username, "password": password}
    if name is not None:
        body["name"] = name
    return api(address=address).post(TOKEN_URL, body, format="json")


@pytest.fixture
def staff(nhse):
    return f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse])


@pytest.fixture
def admin(nhse):
    return f.UserFactory(username="ada.admin", role="Administrator", bodies=[nhse])


def works(token):
    return api(token).get("/api/v1/programmes/").status_code == 200


class TestTokensEnd:
    def test_each_device_gets_its_own_named_token_with_an_expiry(self, staff):
        laptop, script = get_token("sam.staff", name="Laptop"), get_token("sam.staff")
        assert laptop.status_code == script.status_code == 200
        assert laptop.json()["token"] != script.json()["token"]
        assert laptop.json()["name"] == "Laptop" and script.json()["name"] == "API client"
        expiry = dt.datetime.fromisoformat(laptop.json()["expiry"])
        assert dt.timedelta(days=29) < expiry - timezone.now() <= dt.timedelta(days=30)
        assert works(laptop.json()["token"]) and works(script.json()["token"])
        assert list(ApiToken.objects.filter(user=staff).values_list("name", flat=True)) == ["API client", "Laptop"]

    def test_only_a_digest_is_kept(self, staff):
        token = get_token("sam.staff").json()["token"]
        stored = ApiToken.objects.get(user=staff)
        assert token not in (stored.digest, stored.prefix) and stored.digest == ApiToken.digest_of(token)
        assert token.startswith(stored.prefix) and len(stored.prefix) < len(token) // 4

    @override_settings(API_TOKEN_DAYS=7)
    def test_a_token_ends_at_its_expiry(self, staff):
        expiry = dt.datetime.fromisoformat(get_token("sam.staff").json()["expiry"])
        assert dt.timedelta(days=6) < expiry - timezone.now() <= dt.timedelta(days=7)
        record, old = ApiToken.issue(staff, now=timezone.now() - dt.timedelta(days=8))
        response = api(old).get("/api/v1/programmes/")
        assert response.status_code == 401 and "expired" in response.json()["detail"]

    def test_delete_revokes_the_token_in_use_and_no_other(self, staff):
        laptop, phone = token_for(staff, "Laptop"), token_for(staff, "Phone")
        assert api(laptop).delete(TOKEN_URL).status_code == 204
        assert not works(laptop) and works(phone)
        assert api(laptop).delete(TOKEN_URL).status_code == 401
        response = api().delete(TOKEN_URL)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Token")

    def test_changing_the_password_revokes_every_token_but_keeps_this_session(self, client, staff):
        token = token_for(staff)
        client.force_login(staff)
        response = client.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "a-brand-new-secret-2019",
                "new_password2": "a-brand-new-secret-2019",
            },
        )
        assert response.status_code == 302
        assert not works(token) and not ApiToken.objects.filter(user=staff).exists()
        assert client.get("/programmes/").status_code == 200

    def test_a_one_time_password_revokes_tokens_and_sessions(self, client, staff, admin):
        token = token_for(staff)
        client.force_login(staff)
        assert client.get("/programmes/").status_code == 200
        services.set_one_time_password(User.objects.get(pk=staff.pk), by=admin)
        assert not works(token)
        assert client.get("/programmes/")["Location"].startswith("/accounts/login/")

    def test_deactivation_ends_tokens_and_sessions_for_good(self, client, staff, admin):
        token = token_for(staff)
        client.force_login(staff)
        admin_client = type(client)()
        admin_client.force_login(admin)
        assert admin_client.post(f"/users/{staff.pk}/deactivate/").status_code == 302
        assert not works(token)
        assert admin_client.post(f"/users/{staff.pk}/reactivate/").status_code == 302
        # Reactivated: the old session and the old token stay ended; signing in again works.
        assert client.get("/programmes/")["Location"].startswith("/accounts/login/")
        assert not works(token)
        assert works(get_token("sam.staff").json()["token"])

    def test_a_token_of_a_deactivated_user_is_refused_even_if_kept(self, staff):
        token = token_for(staff)
        User.objects.filter(pk=staff.pk).update(is_active=False)  # as a bulk change would, bypassing save()
        assert api(token).get("/api/v1/programmes/").status_code == 401

    def test_a_person_keeps_a_bounded_number_of_tokens(self, staff, settings):
        settings.API_TOKENS_PER_USER = 3
        tokens = [token_for(staff, f"Device {n}") for n in range(5)]
        assert ApiToken.objects.filter(user=staff).count() == 3
        assert [works(t) for t in tokens] == [False, False, True, True, True]


class TestTokenPages:
    def test_the_owner_lists_and_revokes_their_tokens(self, client, staff, nhse):
        token_for(staff, "Laptop")
        phone = token_for(staff, "Phone")
        other = f.UserFactory(role="Staff", bodies=[nhse])
        others = ApiToken.issue(other, "Theirs")[0]
        client.force_login(staff)
        home = client.get("/programmes/").content.decode()
        assert 'href="/accounts/tokens/"' in home and "Your API tokens" in home
        page = client.get("/accounts/tokens/").content.decode()
        assert "Laptop" in page and "Phone" in page and "Theirs" not in page
        laptop = ApiToken.objects.get(user=staff, name="Laptop")
        assert client.post(f"/accounts/tokens/{laptop.pk}/revoke/").status_code == 302
        table = client.get("/accounts/tokens/").content.decode().split('id="api-tokens"')[1].split("</table>")[0]
        assert "Laptop" not in table and "Phone" in table and works(phone)
        # Someone else's token is not theirs to revoke.
        assert client.post(f"/accounts/tokens/{others.pk}/revoke/").status_code == 404
        assert ApiToken.objects.filter(pk=others.pk).exists()

    def test_an_administrator_sees_and_revokes_a_users_tokens(self, client, staff, admin):
        laptop, phone = token_for(staff, "Laptop"), token_for(staff, "Phone")
        client.force_login(admin)
        page = client.get(f"/users/{staff.pk}/").content.decode()
        assert "API tokens" in page and "Laptop" in page and "Phone" in page
        record = ApiToken.objects.get(user=staff, name="Laptop")
        assert client.post(f"/users/{staff.pk}/tokens/{record.pk}/revoke/").status_code == 302
        assert not works(laptop) and works(phone)
        assert client.post(f"/users/{staff.pk}/tokens/revoke/").status_code == 302
        assert not works(phone)

    def test_staff_cannot_revoke_another_users_tokens(self, client, staff, nhse):
        other = f.UserFactory(role="Staff", bodies=[nhse])
        token = token_for(other)
        client.force_login(staff)
        assert client.post(f"/users/{other.pk}/tokens/revoke/").status_code == 403
        assert works(token)


class TestPasswordChangeEnforced:
    @pytest.fixture
    def must_change(self, staff, admin):
        password = services.set_one_time_password(User.objects.get(pk=staff.pk), by=admin)
        return User.objects.get(pk=staff.pk), password

    def test_a_one_time_password_gets_no_token(self, must_change):
        user, password = must_change
        response = get_token(user.username, password)
        assert response.status_code == 403 and "change your password" in response.json()["detail"]
        assert not ApiToken.objects.filter(user=user).exists()

    def test_every_api_call_is_refused_with_the_reason_and_nothing_is_written(self, client, must_change, nhse):
        user, password = must_change
        token = ApiToken.issue(user, "Kept from before")[1]  # however a token came to exist
        client.login(username=user.username, password=password)
        body = {"code": "new-measure", "name": "New", "unit": "percent", "direction": "higher", "comparator": ">="}
        session = APIClient()
        session.cookies = client.cookies
        for caller in (api(token), session):
            for response in (caller.get("/api/v1/programmes/"), caller.post("/api/v1/measures/", body, format="json")):
                assert response.status_code == 403, response.content
                assert "change your password" in response.json()["detail"]
        assert not f.MeasureFactory._meta.model.objects.filter(code="new-measure").exists()
        # The one thing allowed: revoking the token.
        assert api(token).delete(TOKEN_URL).status_code == 204

    def test_pages_send_them_to_change_their_password(self, client, must_change):
        user, password = must_change
        assert client.login(username=user.username, password=password)
        for path in ("/", "/programmes/", "/accounts/tokens/", "/users/"):
            assert client.get(path)["Location"] == "/accounts/password/?first=1", path
        client.post(
            "/accounts/password/",
            {
                "old_password": password,
                "new_password1": "a-brand-new-secret-2019",
                "new_password2": "a-brand-new-secret-2019",
            },
        )
        assert works(get_token(user.username, "a-brand-new-secret-2019").json()["token"])


def fail_sign_in(client, username, times, password="wrong password"):
    return [client.post("/accounts/login/", {"username": username, "password": password}) for _ in range(times)]


class TestLockout:
    def test_the_sign_in_page_locks_the_account_and_says_until_when(self, client, staff, settings):
        answers = fail_sign_in(client, "sam.staff", settings.SIGN_IN_FAILURE_LIMIT - 1)
        assert {a.status_code for a in answers} == {200}
        locked = fail_sign_in(client, "sam.staff", 1)[0]
        assert locked.status_code == 429
        # The right password is refused too, until the cool-off ends.
        right = client.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD})
        assert right.status_code == 429 and "_auth_user_id" not in client.session
        html = right.content.decode()
        assert re.search(
            r"Too many failed sign-ins\. Try again after \d{1,2}:\d\d[ap]m( on \d{1,2} [A-Z][a-z]+)?\.", html
        ), html[:2000]
        assert int(right["Retry-After"]) <= settings.SIGN_IN_COOLOFF_MINUTES * 60 + 60
        assert "nhsuk-error-summary" in html

    def test_the_lockout_ends_after_the_cool_off(self, client, staff, settings):
        fail_sign_in(client, "sam.staff", settings.SIGN_IN_FAILURE_LIMIT)
        assert client.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD}).status_code == 429
        AccessAttempt.objects.update(
            attempt_time=timezone.now() - dt.timedelta(minutes=settings.SIGN_IN_COOLOFF_MINUTES, seconds=1)
        )
        assert client.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD}).status_code == 302

    def test_an_address_trying_many_accounts_is_locked_out_too(self, client, staff, nhse, settings):
        for n in range(settings.SIGN_IN_FAILURE_LIMIT):
            fail_sign_in(client, f"nobody{n}", 1)
        right = client.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD})
        assert right.status_code == 429
        # The account itself is not locked: from another address it signs in.
        elsewhere = type(client)(REMOTE_ADDR="127.0.0.2")
        assert elsewhere.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD}).status_code == 302

    def test_signing_in_to_your_own_account_does_not_reset_guesses_at_another(self, client, staff, nhse, settings):
        f.UserFactory(username="mallory", role="Staff", bodies=[nhse])
        for _ in range(settings.SIGN_IN_FAILURE_LIMIT - 1):
            fail_sign_in(client, "sam.staff", 1)
            assert client.post("/accounts/login/", {"username": "mallory", "password": PASSWORD}).status_code in (
                302,
                429,
            )
            client.logout()
        assert fail_sign_in(client, "sam.staff", 1)[0].status_code == 429
        elsewhere = type(client)(REMOTE_ADDR="127.0.0.2")
        assert elsewhere.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD}).status_code == 429

    def test_the_token_endpoint_answers_429_json_with_retry_after(self, staff, settings):
        answers = [get_token("sam.staff", "wrong").status_code for _ in range(settings.SIGN_IN_FAILURE_LIMIT)]
        assert answers[:-1] == [400] * (settings.SIGN_IN_FAILURE_LIMIT - 1) and answers[-1] == 429
        response = get_token("sam.staff")
        assert response.status_code == 429 and response["Content-Type"] == "application/json"
        assert response.json()["detail"].startswith("Too many failed sign-ins. Try again after ")
        assert 0 < int(response["Retry-After"]) <= settings.SIGN_IN_COOLOFF_MINUTES * 60 + 60
        assert not ApiToken.objects.filter(user=staff).exists()

    def test_failures_on_the_sign_in_page_lock_the_token_endpoint_and_admin(self, client, staff, settings):
        staff.is_staff = staff.is_superuser = True
        staff.save()
        fail_sign_in(client, "sam.staff", settings.SIGN_IN_FAILURE_LIMIT)
        assert get_token("sam.staff").status_code == 429
        admin_login = client.post("/admin/login/", {"username": "sam.staff", "password": PASSWORD})
        assert admin_login.status_code == 429

    def test_django_admin_sign_in_locks_out(self, client, staff, settings):
        staff.is_staff = staff.is_superuser = True
        staff.save()
        answers = [
            client.post("/admin/login/", {"username": "sam.staff", "password": "wrong"}).status_code
            for _ in range(settings.SIGN_IN_FAILURE_LIMIT)
        ]
        assert answers[-1] == 429
        assert client.post("/admin/login/", {"username": "sam.staff", "password": PASSWORD}).status_code == 429
        assert "_auth_user_id" not in client.session

    def test_a_forwarded_for_header_does_not_dodge_the_lockout(self, client, staff, settings):
        for n in range(settings.SIGN_IN_FAILURE_LIMIT):
            client.post(
                "/accounts/login/", {"username": f"nobody{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"127.0.{n}.9"
            )
        assert (
            client.post(
                "/accounts/login/", {"username": "sam.staff", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="127.0.99.9"
            ).status_code
            == 429
        )

    def test_behind_a_proxy_the_address_it_was_reached_from_counts(self, client, staff, nhse, settings):
        settings.SIGN_IN_PROXY_COUNT = 1  # as in production: the proxy adds the address it saw, on the right
        for n in range(settings.SIGN_IN_FAILURE_LIMIT):
            client.post(
                "/accounts/login/",
                {"username": f"nobody{n}", "password": "x"},
                HTTP_X_FORWARDED_FOR=f"127.0.{n}.9, 127.0.0.5",
            )  # whatever the client wrote first
        locked = client.post(
            "/accounts/login/", {"username": "sam.staff", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="127.0.0.5"
        )
        assert locked.status_code == 429
        # Someone else behind the same proxy is not locked out.
        other = client.post(
            "/accounts/login/", {"username": "sam.staff", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="127.0.0.6"
        )
        assert other.status_code == 302


class TestWriteThrottle:
    def test_writes_per_person_are_limited_with_429_json_and_retry_after(self, staff, settings):
        settings.API_WRITE_RATE = "3/minute"
        client = api(token_for(staff))
        codes = [
            client.post(
                "/api/v1/measures/",
                {"code": f"m-{n}", "name": f"M {n}", "unit": "percent", "direction": "higher", "comparator": ">="},
                format="json",
            ).status_code
            for n in range(4)
        ]
        assert codes == [201, 201, 201, 429]
        response = client.patch("/api/v1/measures/m-0/", {"name": "Renamed"}, format="json")
        assert response.status_code == 429 and int(response["Retry-After"]) > 0 and "detail" in response.json()
        # Reading is not limited, and another person writes on.
        assert client.get("/api/v1/measures/").status_code == 200
        other = api(token_for(f.UserFactory(role="Staff", bodies=list(staff.bodies.all()))))
        assert (
            other.post(
                "/api/v1/measures/",
                {"code": "m-9", "name": "M 9", "unit": "percent", "direction": "higher", "comparator": ">="},
                format="json",
            ).status_code
            == 201
        )


class TestOldTokens:
    def test_old_tokens_become_digests_that_expire_and_their_table_goes(self, staff):
        """The migration away from Django REST framework's authtoken table (accounts 0006)."""
        import importlib

        from django.apps import apps
        from django.db import connection

        old_key = "0123456789abcdef0123456789abcdef01234567"
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL, "
                "user_id bigint NOT NULL)"
            )
            cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, staff.pk])
        migration = importlib.import_module("accounts.migrations.0006_old_tokens")
        with connection.schema_editor() as editor:
            migration.move_old_tokens(apps, editor)
        assert "authtoken_token" not in connection.introspection.table_names()
        record = ApiToken.objects.get(user=staff)
        assert record.digest == ApiToken.digest_of(old_key) and old_key not in (record.digest, record.prefix)
        assert dt.timedelta(days=29) < record.expires - timezone.now() <= dt.timedelta(days=30)
        assert works(old_key)


class TestNHSIdentityOff:
    def test_nothing_about_it_shows_when_it_is_off(self, client, settings):
        assert settings.OIDC_ENABLED is False  # the default
        page = client.get("/accounts/login/").content.decode()
        assert "NHS account" not in page and "nhs-identity" not in page
        for path in (
            "/accounts/login/nhs-identity/",
            "/accounts/login/nhs-identity/callback/?code=x&state=y",
            "/accounts/login/nhs-identity/refused/",
        ):
            assert client.get(path).status_code == 404, path


class TestNewTokenFromThePage:
    def test_a_token_for_someone_without_a_password_shown_once(self, client, staff):
        staff.set_unusable_password()  # as for people who sign in through NHS identity
        staff.save()
        client.force_login(staff)
        response = client.post("/accounts/tokens/", {"name": "Monthly figures script"})
        assert response.status_code == 200
        token = re.search(r'id="new-api-token"[^>]*>([^<]+)<', response.content.decode()).group(1)
        assert works(token)
        page = client.get("/accounts/tokens/").content.decode()
        assert "Monthly figures script" in page and token not in page

    def test_a_name_too_long_is_named_in_an_error_summary(self, client, staff):
        client.force_login(staff)
        response = client.post("/accounts/tokens/", {"name": "x" * 101})
        assert response.status_code == 400
        html = response.content.decode()
        assert "There is a problem" in html and "Enter a name of 100 characters or fewer." in html
        assert not ApiToken.objects.filter(user=staff).exists()


def test_a_token_is_found_with_its_person_roles_and_bodies_in_one_query(nhse, nhsi):
    """ApiToken.find writes its query once, from the models: what it gives is what the ORM reads, and only a
    live token whose whole text matches is found."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    region = f.RegionFactory()
    person = f.UserFactory(role="Regional director", bodies=[nhse, nhsi], region=region, first_name="Lee")
    person.groups.add(Group.objects.get_or_create(name="Staff")[0])
    record, token = ApiToken.issue(person, name="Laptop")
    with CaptureQueriesContext(connection) as ctx:
        found = ApiToken.find(token)
        roles, bodies = found.user.roles, found.user.body_ids
    assert len(ctx.captured_queries) == 1
    fresh_token, fresh_person = ApiToken.objects.get(pk=record.pk), User.objects.get(pk=person.pk)
    for model, a, b in ((ApiToken, found, fresh_token), (User, found.user, fresh_person)):
        for field in model._meta.concrete_fields:
            assert getattr(a, field.attname) == getattr(b, field.attname), field.name
    assert roles == {"Regional director", "Staff"} and bodies == {nhse.pk, nhsi.pk}
    assert ApiToken.find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # same prefix, other token
    ApiToken.objects.filter(pk=record.pk).update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert ApiToken.find(token) is None
