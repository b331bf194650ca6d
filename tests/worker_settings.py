"""Settings for the Celery workers the tests start: the test settings, plus what a test asks of its worker.

The test settings clear the portal's behaviour settings from the environment
(so that a caller's exports cannot change what the tests assert), which would
also clear what a test means to set for its worker. A test passes those as
TEST_WORKER_<setting> instead, and only the ones read here.
"""

import os

from nhs_joint.settings.test import *

REPORT_RULE_DELAY = float(os.environ.get("TEST_WORKER_REPORT_RULE_DELAY", "0"))
