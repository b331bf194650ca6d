"""Settings for the test suite: real PostgreSQL and Redis, plain static storage.

The tests assert the portal's own defaults, so the settings that change how the
portal behaves are never taken from the caller's environment or a `.env` file:
they are cleared here, before the base settings read them, and so for every
process a test starts too. Only where the services are (`KEPT_FROM_ENVIRONMENT`)
still comes from the environment, as `scripts/test.sh` sets it.
"""

import atexit
import os
import shutil
import tempfile

KEPT_FROM_ENVIRONMENT = (
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "DATABASE_TEST_NAME",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
)
CLEARED_FROM_ENVIRONMENT = (
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_LOG_LEVEL",
    "DJANGO_STATIC_ROOT",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_HSTS_SECONDS",
    "DJANGO_HSTS_PRELOAD",
    "CELERY_TASK_ALWAYS_EAGER",
    "CELERY_BROKER_WRITE_URL",
    "CELERY_BROKER_READ_URL",
    "DEMO_DATA_ALLOWED",
    "DEMO_PASSWORD",
    "SPC_RUN_LENGTH",
    "HEADLINE_MEASURES",
    "DUPLICATE_WORK_POSSIBLE",
    "DUPLICATE_WORK_LIKELY",
    "DUPLICATE_WORK_NEIGHBOURS",
    "REPORTS_QUEUE",
    "REPORT_SOFT_TIME_LIMIT",
    "REPORT_TIME_LIMIT",
    "REPORT_STALE_AFTER",
    "REPORT_RULE_DELAY",
    "REPORT_RETRY_SECONDS",
    "API_TOKEN_DAYS",
    "LETTER_SIGNATORY",
    "LETTER_SIGNATORY_ROLE",
    "LETTER_CONTACT",
    "PAGE_CACHE_SECONDS",
    "PAGE_CACHE_URL",
    "PAGE_CACHE_KEY_PREFIX",
    "API_SCHEMA_CACHE_URL",
    "AUTOCOMPLETE_INLINE_LIMIT",
    "API_TOKENS_PER_USER",
    "API_WRITE_RATE",
    "SIGN_IN_FAILURE_LIMIT",
    "SIGN_IN_COOLOFF_MINUTES",
    "SIGN_IN_PROXY_COUNT",
    "OIDC_ENABLED",
    "OIDC_PROVIDER_NAME",
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
    "OIDC_RP_SIGN_ALGO",
    "OIDC_RP_SCOPES",
    "OIDC_TIMEOUT",
    "OIDC_TRUSTED_EMAIL_TENANTS",
    "DATABASE_CONNECT_TIMEOUT",
    "DATABASE_STATEMENT_TIMEOUT",
    "DATABASE_LOCK_TIMEOUT",
    "DATABASE_REQUEST_TIMEOUT",
    "DATABASE_KEEPALIVES_IDLE",
    "DATABASE_WORKER_STATEMENT_TIMEOUT",
    "CELERY_BROKER_TIMEOUT",
    "REPORT_QUEUED_STALE_AFTER",
    "EXPORT_ROWS_IN_REQUEST",
    "IMPORT_BYTES_IN_REQUEST",
    "JOB_KEEP_DAYS",
    "EMAIL_URL",
    "EMAIL_FROM",
    "PORTAL_URL",
    "NOTIFICATIONS_QUEUE",
    "NOTIFICATION_RETRY_SECONDS",
    "ATTACHMENT_MAX_MB",
    "ATTACHMENTS_STORAGE",
    "ATTACHMENTS_DIR",
    "ATTACHMENTS_S3_BUCKET",
    "ATTACHMENTS_S3_ENDPOINT_URL",
    "ATTACHMENTS_S3_REGION",
    "ATTACHMENTS_S3_ACCESS_KEY_ID",
    "ATTACHMENTS_S3_SECRET_ACCESS_KEY",
    "ATTACHMENTS_S3_PREFIX",
)
for _name in CLEARED_FROM_ENVIRONMENT:
    os.environ.pop(_name, None)
os.environ["DJANGO_READ_DOT_ENV"] = "false"

from .base import *  # noqa: E402
from .base import CACHES, STORAGES  # noqa: E402

# The manifest storage needs collectstatic before any page renders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Board papers stored by a test run go to a temporary folder of that run, removed when it ends.
ATTACHMENTS_TEST_DIR = tempfile.mkdtemp(prefix="portal-test-attachments-")
atexit.register(shutil.rmtree, ATTACHMENTS_TEST_DIR, ignore_errors=True)
STORAGES["attachments"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": ATTACHMENTS_TEST_DIR, "base_url": "/no-public-address/"},
}
# The API schema made by a test run is kept in a folder of that run, removed when it ends.
SCHEMA_TEST_DIR = tempfile.mkdtemp(prefix="portal-test-api-schema-")
atexit.register(shutil.rmtree, SCHEMA_TEST_DIR, ignore_errors=True)
CACHES = {
    **CACHES,
    "schema": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": SCHEMA_TEST_DIR},
}
# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files straight from the app and static/ folders: tests never run collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
