"""The API's JSON parser: bodies of bounded size and depth.

Kept apart from nhs_joint.api so that the REST framework's settings can name it without importing the views.
"""

import codecs

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

# The deepest nesting of objects and arrays a body may have: the portal's deepest (an appointment's shares) is 3.
MAX_JSON_DEPTH = 20


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body of the request is too large."
    default_code = "payload_too_large"


def too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadTooLarge(f"The body of the request is too large: send at most {limit:,} bytes.")


def _json_depth_exceeds(data, limit):
    """True when ``data`` nests objects and arrays more than ``limit`` deep (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class BoundedJSONParser(JSONParser):
    """JSON of a bounded size (413 beyond DATA_UPLOAD_MAX_MEMORY_SIZE) and depth (400 beyond MAX_JSON_DEPTH).

    Django's own size limit covers form posts only: DRF reads a JSON body straight from the stream.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise too_large()
        body = (
            stream.read(limit + 1) if (stream is not None and limit is not None) else (stream.read() if stream else b"")
        )
        if limit is not None and len(body) > limit:
            raise too_large()
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.decode(body, encoding)
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise exceptions.ParseError(f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if _json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels.")
        return data
