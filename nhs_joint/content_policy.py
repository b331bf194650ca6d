"""The Content-Security-Policy header (django-csp), written once per process rather than on every response.

django-csp builds the policy from the settings for every response, twice (the policy and the report-only one):
merging the directives, copying and joining them. The settings' policy does not change while the portal runs, so
``CSPMiddleware`` writes it once with a stand-in for the nonce and puts each response's nonce in its place. A
response given a policy of its own (django-csp's decorators) has it built as django-csp builds it.
"""

from dataclasses import asdict
from http import HTTPStatus

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

# Stands for the nonce in a policy written once: letters that never occur in a policy's sources.
NONCE_MARK = "portalnoncemark0"

_written = {}


def _forget(setting, **kwargs):
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        _written.clear()


setting_changed.connect(_forget, dispatch_uid="nhs_joint.content_policy")


def _policy(parts, report_only):
    if parts.config is not None or parts.update is not None or parts.replace is not None:
        return build_policy(**asdict(parts), report_only=report_only)
    key = (report_only, bool(parts.nonce))
    written = _written.get(key)
    if written is None:
        written = _written[key] = build_policy(nonce=NONCE_MARK if parts.nonce else None, report_only=report_only)
    return written.replace(NONCE_MARK, parts.nonce) if parts.nonce else written


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's middleware, its policies written once (see the module); otherwise as django-csp's own."""

    def process_response(self, request, response):
        if response.status_code in (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.NOT_FOUND) and settings.DEBUG:
            return response
        for header, report_only, exempt, setting in (
            (HEADER, False, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, True, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            policy = _policy(
                self.get_policy_parts(request=request, response=response, report_only=report_only), report_only
            )
            if not policy or header in response or getattr(response, exempt, False):
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        # As django-csp's: once the header is written, asking for a nonce is an error, not a nonce no policy allows.
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
