"""The console log: a refused request (403) is one line; a server error keeps its traceback."""

import logging
import sys

import pytest

from tests import factories as f


def console_handler():
    return next(handler for handler in logging.getLogger().handlers if handler.get_name() == "console")


@pytest.mark.django_db
def test_a_refused_request_is_logged_as_one_line_without_a_traceback(client, nhse, caplog):
    from tests.conftest import create_roles

    create_roles()
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    with caplog.at_level(logging.INFO):
        response = client.get("/users/")
    assert response.status_code == 403

    refusals = [record for record in caplog.records if getattr(record, "status_code", None) == 403]
    assert refusals, "the refusal was not logged"
    # Django hands the refusal's exception to the log: this is what made the console show a traceback.
    assert any(record.exc_info for record in refusals)
    lines = "\n".join(console_handler().format(record) for record in refusals).splitlines()
    assert lines == ["Forbidden (Permission denied): /users/"] * len(refusals)
    # Formatting for the console leaves the record itself whole for any other handler.
    assert any(record.exc_info for record in refusals)


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("the database went away")
    except RuntimeError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/programmes/",),
            sys.exc_info(),
            extra={"status_code": 500},
        )
    text = console_handler().format(record)
    assert text.startswith("Internal Server Error: /programmes/\nTraceback (most recent call last):")
    assert "RuntimeError: the database went away" in text


def test_django_records_reach_the_console_once():
    # Django's records go to the root logger's console only (its own console handler, shown when
    # DEBUG is on, would print each of them a second time, traceback and all).
    django_logger = logging.getLogger("django")
    assert django_logger.propagate
    assert [handler.get_name() for handler in django_logger.handlers] == ["mail_admins"]
    assert [handler.get_name() for handler in logging.getLogger().handlers if handler.get_name()] == ["console"]
