"""What the page and the API share: the request read and checked, and each result's address and words."""

from django.urls import reverse

from nhs_joint.registry import registry

from .documents import KIND_LABELS, KIND_MODEL
from .query import MAX_QUERY, Search


class BadSearch(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def read(params, user):
    """The Search a request asks for (``q``, ``kind``, ``archived``), or BadSearch naming the parameter."""
    text = params.get("q", "")
    if len(text) > MAX_QUERY:
        raise BadSearch("q", f"Enter {MAX_QUERY} characters or fewer.")
    if "\x00" in text:
        raise BadSearch("q", "Enter words to search for.")
    kind = params.get("kind", "")
    if kind and kind not in KIND_LABELS:
        raise BadSearch("kind", "Choose a kind of record from the list: " + ", ".join(KIND_LABELS) + ".")
    archived = params.get("archived", "")
    if archived not in ("", "yes", "true", "no", "false"):
        raise BadSearch("archived", "Give yes or no.")
    return Search(text, kind=kind, archived=archived in ("yes", "true"), user=user)


def url_of(document, user):
    """The page of a found record; a partner's is the consultation page of their ask."""
    if getattr(user, "is_partner", False):
        return reverse("consultation-detail", args=[document.key])
    resource = registry.resource_for(KIND_MODEL[document.kind]._meta.model_name)
    return resource.detail_url(document.key)


def kind_label(kind, number=2):
    label = KIND_LABELS[kind]
    if number == 1:
        return {"People": "Person", "Local health systems": "Local health system"}.get(label, label[:-1])
    return label
