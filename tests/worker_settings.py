"""Settings for the Celery workers and web servers the tests start: the test settings, plus what a test asks of
its worker or server.

The test settings clear the portal's behaviour settings from the environment
(so that a caller's exports cannot change what the tests assert), which would
also clear what a test means to set for its worker. A test passes those as
TEST_WORKER_<setting> instead, and only the ones read here.
"""

import os

from nhs_joint.settings.test import *

REPORT_RULE_DELAY = float(os.environ.get("TEST_WORKER_REPORT_RULE_DELAY", "0"))
REPORT_RETRY_SECONDS = float(os.environ.get("TEST_WORKER_REPORT_RETRY_SECONDS", REPORT_RETRY_SECONDS))

# How long a request waits for the database before its 503 (a test of a hung database waits for it each time).
DATABASE_REQUEST_TIMEOUT = float(os.environ.get("TEST_WORKER_DATABASE_REQUEST_TIMEOUT", DATABASE_REQUEST_TIMEOUT))

# Notifications: the queue the test's worker listens on, the test's own SMTP server, and quick retries.
NOTIFICATIONS_QUEUE = os.environ.get("TEST_WORKER_NOTIFICATIONS_QUEUE", "celery")
NOTIFICATION_RETRY_SECONDS = float(os.environ.get("TEST_WORKER_NOTIFICATION_RETRY_SECONDS", "30"))
if os.environ.get("TEST_WORKER_EMAIL_URL"):
    import environ

    vars().update(environ.Env.email_url_config(os.environ["TEST_WORKER_EMAIL_URL"]))
