"""Settings for the test suite: real PostgreSQL and Redis, plain static storage."""

from .base import *  # noqa: F401,F403
from .base import STORAGES

# The manifest storage needs collectstatic before any page renders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files straight from the app and static/ folders: tests never run collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
