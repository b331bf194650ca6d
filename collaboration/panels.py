"""The parts of records' pages this app draws (registered in apps.py): papers and comments, and the
"Save this view" control of the lists."""

from functools import cache

from django.middleware.csrf import get_token
from django.template import engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from markupsafe import Markup

from nhs_joint.prefetch import cached_query
from nhs_joint.records import record_key

from . import services
from .forms import CommentForm, SavedViewForm


@cache
def empty_comment_fields():
    """The comment form's fields as it opens, empty: the same on every record's page, so drawn once."""
    template = engines["jinja2"].from_string("{% from 'macros/forms.jinja' import fields %}{{ fields(form) }}")
    return Markup(template.render({"form": CommentForm()}))


def comments_reads(request, record):
    """What the comments panel reads, for the record's page to read with its sections."""
    if not services.takes(services.COMMENTABLE, record):
        return []
    record_type, record_id = record_key(record)
    return [cached_query(services.comments_query, record_type=record_type.pk, record_id=record_id)]


def comments_panel(request, record, resource, rows=None):
    if not services.takes(services.COMMENTABLE, record):
        return ""
    user = request.user
    now = timezone.now()
    comments = rows[0] if rows is not None else list(services.comments_on(record))
    is_admin = services.can_hide_comment(user).allowed
    items = [
        {
            "comment": c,
            "html": None if c.is_hidden else services.comment_html(c.text),
            "author": services.display_name(c.author),
            "can_edit": c.author_id == user.pk and not c.is_hidden and now <= services.editable_until(c),
            "can_hide": is_admin and not c.is_hidden,
        }
        for c in comments
    ]
    return mark_safe(  # a Jinja2 template, autoescaped
        render_to_string(
            "collaboration/comments_panel.jinja",
            {
                "items": items,
                "form_fields": empty_comment_fields(),
                "action": reverse("comment-create", args=[resource.name, record.pk]),
                "record": record,
            },
            request=request,
        )
    )


def attachments_reads(request, record):
    """What the papers panel reads first, for the record's page to read with its sections."""
    if not services.takes(services.ATTACHABLE, record):
        return []
    record_type, record_id = record_key(record)
    return [cached_query(_papers_with_uploader, record_type=record_type.pk, record_id=record_id)]


def _papers_with_uploader(record_type, record_id):
    return services.attachments_query(record_type, record_id).select_related("uploaded_by")


def attachments_panel(request, record, resource, rows=None):
    if not services.takes(services.ATTACHABLE, record):
        return ""
    attachments = rows[0] if rows is not None else list(services.attachments_on(record).select_related("uploaded_by"))
    versions = services.earlier_versions(attachments)
    can_change = services.can_attach(request.user, record, resource).allowed and not getattr(
        record, "is_archived", False
    )
    return mark_safe(  # a Jinja2 template, autoescaped
        render_to_string(
            "collaboration/attachments_panel.jinja",
            {
                "items": [{"paper": a, "versions": versions[a.pk]} for a in attachments],
                "can_change": can_change,
                "add_url": reverse("attachment-create", args=[resource.name, record.pk]),
            },
            request=request,
        )
    )


def save_view_control(request, resource):
    """The "Save this view" form of a list page: the list's name and its filters, under a name."""
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    get_token(request)
    return mark_safe(  # a Jinja2 template, autoescaped
        render_to_string(
            "collaboration/save_view.jinja",
            {
                "form": SavedViewForm(initial={"list_name": resource.name, "query": query.urlencode()}),
                "list_name": resource.name,
                "query": query.urlencode(),
            },
            request=request,
        )
    )


def saved_views_list(user):
    """A person's saved views, for another page (My work) to show: see services.saved_views_for."""
    return services.saved_views_for(user)


def my_work_saved_views(request):
    """My work's section of the person's saved views (registered with the core's My work sections)."""
    template = "{% from 'collaboration/macros.jinja' import saved_views_list %}{{ saved_views_list(views) }}"
    return mark_safe(  # a Jinja2 template, autoescaped
        engines["jinja2"].from_string(template).render({"views": services.saved_views_for(request.user)})
    )
