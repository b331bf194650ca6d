"""Settings for the benchmarks: the portal's own settings, plus a bare "ok" view to compare against."""

from nhs_joint.settings.base import *
from nhs_joint.settings.base import LOGGING, STORAGES

ROOT_URLCONF = "bench.urls"
DEBUG = False
# The benchmarks request pages, not static files: serve those from the finders, no collectstatic needed.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}
