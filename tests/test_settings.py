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
        "check", "--deploy", "--fail-level", "WARNING",
        env_overrides={**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "true", "DJANGO_HSTS_SECONDS": "31536000",
                       "DJANGO_HSTS_PRELOAD": "true"},
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("debug, expected", [(None, "False"), ("true", "True"), ("false", "False")])
def test_debug_is_off_unless_asked_for(debug, expected):
    env = {"DJANGO_SETTINGS_MODULE": "nhs_joint.settings.base"}
    if debug is not None:
        env["DJANGO_DEBUG"] = debug
    result = run_manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env_overrides=env)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


def test_connections_are_kept_between_requests(settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


def test_collectstatic_succeeds_with_the_production_storage(tmp_path):
    """The manifest storage of the base and production settings refuses a stylesheet naming a missing file."""
    result = run_manage(
        "collectstatic", "--noinput", "--verbosity", "0",
        env_overrides={"DJANGO_SETTINGS_MODULE": "nhs_joint.settings.base", "DJANGO_STATIC_ROOT": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("nhsuk/nhsuk-frontend.min.*.css"))
