"""Sign-in settings: API tokens, lockout after failed sign-ins, write throttling, NHS identity (OpenID Connect).

Imported at the end of base.py; every value comes from the environment (see the README's table).
"""

import datetime

import environ

env = environ.Env()

# Sign-in: a lockout (django-axes) first, then the portal's passwords, then NHS identity where it is on.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.oidc.NHSIdentityBackend",
]

# API tokens: days until a token ends, and how many live tokens (devices) one person keeps.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=20)
# API writes (POST, PUT, PATCH, DELETE) allowed per person, as "number/second|minute|hour|day".
API_WRITE_RATE = env.str("API_WRITE_RATE", default="300/minute")

# Failed sign-ins (the sign-in page, the token endpoint, Django admin, the password-change form) lock the account and the address
# they came from for a cool-off time.
SIGN_IN_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=10)
SIGN_IN_COOLOFF_MINUTES = env.int("SIGN_IN_COOLOFF_MINUTES", default=15)
# Proxies in front of the portal that add X-Forwarded-For (production: 1); 0 counts the direct peer.
SIGN_IN_PROXY_COUNT = env.int("SIGN_IN_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=SIGN_IN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
# A successful sign-in does not wipe the failures: django-axes would wipe every failure from that
# address, so someone with an account could keep guessing another's password between their own sign-ins.
AXES_RESET_ON_SUCCESS = False
# Trying again while locked out does not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HTTP_RESPONSE_CODE = 429

# Sign-in through NHS identity (OpenID Connect, e.g. Microsoft Entra ID for NHSmail accounts). Off
# unless OIDC_ENABLED: then the sign-in page offers it. Accounts are matched by email; roles and
# bodies stay the portal's.
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your NHS account")
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email")
OIDC_USE_PKCE = True
# Seconds to wait for each answer of the provider (token, keys, user information): a provider that does not
# answer refuses the sign-in, it does not hold the web process.
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5)
# An account is matched only by an email the provider says it has verified (email_verified true), except
# from these tenants (the ID token's tid claim): Microsoft Entra ID sends no email_verified, and a tenant's
# own addresses (NHSmail's) can be trusted as they are.
OIDC_TRUSTED_EMAIL_TENANTS = env.list("OIDC_TRUSTED_EMAIL_TENANTS", default=[])
OIDC_CREATE_USER = False  # never: an Administrator creates the account and gives it its role
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc-callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/nhs-identity/refused/"
if OIDC_ENABLED:
    _missing = [
        name
        for name in (
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"OIDC_ENABLED is on but these settings are empty: {', '.join(_missing)}.")
AXES_VERBOSE = False  # the lockouts are logged; the start-up banner is not needed
