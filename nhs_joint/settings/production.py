"""Production settings: behind a proxy that terminates HTTPS.

Starts only with DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS set. `manage.py
check --deploy` with these settings warns only about what the proxy owns
(HTTPS redirect and HSTS) unless DJANGO_SECURE_SSL_REDIRECT/DJANGO_HSTS_SECONDS
are set.
"""

from .base import *
from .base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=False)
# Failed sign-ins are counted against the address the proxy was reached from only when SIGN_IN_PROXY_COUNT
# says how many proxies stand in front (1 behind the usual one): by default (0) X-Forwarded-For, which any
# client can write when no proxy is there, is not read at all (nhs_joint/settings/identity.py).
