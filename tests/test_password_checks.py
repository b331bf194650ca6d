"""Every place a password is checked is throttled as the sign-in is: the password-change form included.

The change form checked the current password with ``check_password``, out of the lockout's sight: 15 wrong
ones were recorded nowhere and the right one was then accepted (this test failed so on the portal before).
"""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests import factories as f
from tests.conftest import create_roles

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
NEW = "a brand new password 2026"


@pytest.fixture
def person(nhse):
    create_roles()
    return f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse])


def change(client, old):
    return client.post("/accounts/password/", {"old_password": old, "new_password1": NEW, "new_password2": NEW})


def test_fifteen_wrong_current_passwords_lock_the_change_form_and_then_the_right_one_is_refused(
    client, person, settings
):
    limit = settings.SIGN_IN_FAILURE_LIMIT
    assert limit < 15
    client.force_login(person)
    codes = [change(client, f"guess number {n}").status_code for n in range(15)]
    assert codes[: limit - 1] == [200] * (limit - 1), codes  # the form again, naming the field
    assert set(codes[limit:]) == {429}, codes  # then the lockout page
    assert AccessAttempt.objects.filter(username="sam.staff").get().failures_since_start >= limit

    refused = change(client, PASSWORD)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "Try again after" in refused.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD) and not person.check_password(NEW)
    # The lockout is the account's: the sign-in page refuses the right password too.
    client.logout()
    signing_in = client.post("/accounts/login/", {"username": "sam.staff", "password": PASSWORD})
    assert signing_in.status_code == 429

    # Once the cool-off has passed, the right current password changes it.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - dt.timedelta(minutes=settings.SIGN_IN_COOLOFF_MINUTES + 1)
    )
    client.force_login(person)
    changed = change(client, PASSWORD)
    assert changed.status_code == 302, changed.content
    person.refresh_from_db()
    assert person.check_password(NEW)


def test_a_wrong_current_password_names_the_field_and_counts_once(client, person):
    client.force_login(person)
    response = change(client, "not it")
    assert response.status_code == 200
    assert "Your old password is not right" in response.content.decode()
    assert AccessAttempt.objects.get(username="sam.staff").failures_since_start == 1
