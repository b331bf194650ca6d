"""Settings come from the environment; production settings pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "portal.example.nhs.uk",
}


@pytest.mark.slow
def test_check_deploy_warns_only_about_what_the_proxy_owns():
    result = run_manage("check", "--deploy", env_overrides=PRODUCTION)
    warnings = {line.split(")")[0].lstrip("?: (") for line in result.stderr.splitlines() if line.startswith("?: (")}
    assert warnings == {"security.W004", "security.W008"}, result.stderr


@pytest.mark.slow
def test_check_deploy_is_clean_when_https_settings_are_given():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            **PRODUCTION,
            "DJANGO_SECURE_SSL_REDIRECT": "true",
            "DJANGO_HSTS_SECONDS": "31536000",
            "DJANGO_HSTS_PRELOAD": "true",
        },
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("debug, expected", [(None, "False"), ("true", "True"), ("false", "False")])
def test_debug_is_off_unless_asked_for(debug, expected):
    env = {"DJANGO_SETTINGS_MODULE": "nhs_joint.settings.base"}
    if debug is not None:
        env["DJANGO_DEBUG"] = debug
    result = run_manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env_overrides=env)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


def test_connections_are_kept_between_requests(settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


@pytest.mark.slow
def test_collectstatic_succeeds_with_the_production_storage(tmp_path):
    """The manifest storage of the base and production settings refuses a stylesheet naming a missing file.

    The base settings' storage, compressing only the stylesheets (tests/collectstatic_settings.py)."""
    from nhs_joint.settings import base

    from . import collectstatic_settings

    assert collectstatic_settings.STORAGES["staticfiles"] == base.STORAGES["staticfiles"]
    result = run_manage(
        "collectstatic",
        "--noinput",
        "--verbosity",
        "0",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "tests.collectstatic_settings",
            "DJANGO_STATIC_ROOT": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("nhsuk/nhsuk-frontend.min.*.css"))
    assert list(tmp_path.glob("portal/portal.*.css.br")) and list(tmp_path.glob("portal/portal.*.css.gz"))


def test_every_environment_setting_is_either_kept_or_cleared_for_the_tests():
    """A new setting read from the environment must be placed: a service address, or behaviour the tests pin."""
    import re

    from nhs_joint.settings import test as test_settings

    read = set()
    for path in sorted((ROOT / "nhs_joint" / "settings").glob("*.py")):
        read.update(re.findall(r"""env\.\w+\(\s*["']([A-Z_]+)["']""", path.read_text()))
    read.discard("DJANGO_READ_DOT_ENV")
    placed = set(test_settings.KEPT_FROM_ENVIRONMENT) | set(test_settings.CLEARED_FROM_ENVIRONMENT)
    assert read - placed == set()


@pytest.mark.slow
def test_the_test_settings_ignore_behaviour_exported_by_the_caller(tmp_path):
    """Every README setting exported with an unusual value leaves the test settings on the defaults."""
    exported = {
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "portal.example.nhs.uk",
        "DJANGO_LOG_LEVEL": "ERROR",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DEMO_DATA_ALLOWED": "false",
        "SPC_RUN_LENGTH": "9",
        "HEADLINE_MEASURES": "ae-4hr",
        "DUPLICATE_WORK_POSSIBLE": "0.9",
        "REPORTS_QUEUE": "elsewhere",
        "REPORT_STALE_AFTER": "5",
        "REPORT_RULE_DELAY": "2",
        "OIDC_ENABLED": "true",
        "SIGN_IN_FAILURE_LIMIT": "2",
        "API_TOKEN_DAYS": "1",
        "API_WRITE_RATE": "1/day",
    }
    probe = (
        "from django.conf import settings as s; import os; "
        "print(s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER, s.DEMO_DATA_ALLOWED, s.SPC_RUN_LENGTH, len(s.HEADLINE_MEASURES), "
        "s.DUPLICATE_WORK_POSSIBLE, s.REPORTS_QUEUE, s.REPORT_STALE_AFTER, s.REPORT_RULE_DELAY, "
        "'localhost' in s.ALLOWED_HOSTS, os.environ.get('SPC_RUN_LENGTH'), s.OIDC_ENABLED, s.AXES_FAILURE_LIMIT, "
        "s.API_TOKEN_DAYS, s.API_WRITE_RATE)"
    )
    result = run_manage(
        "shell",
        "-c",
        probe,
        env_overrides={**exported, "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.test"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "False",
        "False",
        "True",
        "7",
        "4",
        "0.5",
        "celery",
        "120",
        "0",
        "True",
        "None",
        "False",
        "10",
        "30",
        "300/minute",
    ], result.stdout
