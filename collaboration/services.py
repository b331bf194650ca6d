"""What people do with comments, board papers and saved views, for the pages and the API alike.

The rules live here once: who may comment, edit, hide, attach and read; what a board paper may be (its type
found from its content, its size bounded); and how a comment is announced (``nhs_joint.signals.comment_posted``
once the comment is committed).
"""

import datetime as dt
import posixpath
import re
import struct
import uuid
import zipfile
from dataclasses import dataclass

import filetype
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import transaction
from django.http import Http404, QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import get_valid_filename

from nhs_joint import archive
from nhs_joint.permissions import ALLOWED, Decision
from nhs_joint.records import record_key
from nhs_joint.registry import registry
from nhs_joint.signals import comment_posted

from .models import COMMENT_MAX_CHARS, Attachment, Comment, SavedView

COMMENT_EDIT_MINUTES = 15

# The kinds of record people comment on, and those board papers are attached to (app label, model name).
COMMENTABLE = (
    ("programmes", "programme"),
    ("programmes", "workstream"),
    ("asks", "expectation"),
    ("appointments", "appointment"),
    ("reports", "finding"),
)
ATTACHABLE = (
    ("programmes", "boardapproval"),
    ("programmes", "programme"),
    ("appointments", "appointment"),
)


def _resource_names(kinds):
    names = []
    for app_label, model_name in kinds:
        if apps.is_installed(app_label):
            resource = registry.resource_for(model_name)
            if resource is not None:
                names.append(resource.name)
    return names


def commentable_types():
    """The record types comments are taken on, by their pages' names ("programme", "finding")."""
    return _resource_names(COMMENTABLE)


def attachable_types():
    """The record types board papers are attached to ("board-approval", "programme", "appointment")."""
    return _resource_names(ATTACHABLE)


def takes(kinds, record):
    return (record._meta.app_label, record._meta.model_name) in kinds


def display_name(user):
    return str(user) if user is not None else "Someone"


# Records ---------------------------------------------------------------------------------------------------


def find_record(record_type, record_id, user, allowed):
    """The record of type ``record_type`` (a page's name) with id ``record_id`` that ``user`` may read.

    Raises ValidationError naming the field for a type that takes nothing or no such record, and
    PermissionDenied when the user may not read records of that kind.
    """
    if record_type not in allowed:
        raise ValidationError({"record_type": f"Choose one of: {', '.join(allowed)}."})
    resource = registry.resource_named(record_type)
    resource.check_view(user)
    record = None
    if 0 < int(record_id) < 2**63:
        with archive.including_archived():
            record = resource.model._base_manager.filter(pk=record_id).first()
    if record is None:
        raise ValidationError({"record_id": f"There is no {resource.verbose_name} with id {record_id}."})
    return record, resource


def record_of(item, user=None):
    """The record a comment or a paper is on (archived or not), and its page resource."""
    model = item.record_type.model_class()
    resource = registry.resource_for(model._meta.model_name)
    if user is not None and resource is not None:
        resource.check_view(user)
    record = model._base_manager.filter(pk=item.record_id).first()
    return record, resource


# Comments --------------------------------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def comment_html(text):
    """A comment's text as HTML: everything escaped, web addresses (http and https only) made into links,
    blank lines into paragraphs and line breaks kept."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        pieces = []
        position = 0
        for match in _URL.finditer(paragraph):
            address = match.group(0)
            trimmed = address.rstrip(_TRAILING)
            if address.endswith(")") and trimmed.count("(") > trimmed.count(")"):
                trimmed += ")"
            pieces.append(escape(paragraph[position : match.start()]))
            pieces.append(
                f'<a class="nhsuk-link" href="{escape(trimmed)}" rel="nofollow noopener">{escape(trimmed)}</a>'
            )
            position = match.start() + len(trimmed)
        pieces.append(escape(paragraph[position:]))
        paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    return mark_safe("\n".join(paragraphs))  # every piece of the text is escaped above


def clean_comment_text(text):
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter your comment."})
    if len(text) > COMMENT_MAX_CHARS:
        raise ValidationError(
            {"text": f"Comment must be {COMMENT_MAX_CHARS:,} characters or fewer (it has {len(text):,})."}
        )
    return text


def post_comment(record, author, text):
    """Save a comment on ``record``; ``comment_posted`` is sent once the comment is committed."""
    text = clean_comment_text(text)
    record_type, record_id = record_key(record)
    with transaction.atomic():
        comment = Comment(record_type=record_type, record_id=record_id, text=text, author=author)
        comment._change_reason = "Comment posted"
        comment.save()
        transaction.on_commit(
            lambda: comment_posted.send(sender=Comment, comment=comment, record=record, author=author)
        )
    return comment


def editable_until(comment):
    return comment.created_at + dt.timedelta(minutes=COMMENT_EDIT_MINUTES)


def can_edit_comment(user, comment):
    if comment.author_id != getattr(user, "pk", None):
        return Decision(False, "Only the person who wrote a comment can edit it.")
    if comment.is_hidden:
        return Decision(False, "This comment was hidden by an administrator: it cannot be edited.")
    if timezone.now() > editable_until(comment):
        return Decision(
            False,
            f"A comment can be edited for {COMMENT_EDIT_MINUTES} minutes after it is posted. Post a new comment instead.",
        )
    return ALLOWED


def can_hide_comment(user, comment=None):
    if not getattr(user, "is_administrator", False):
        return Decision(False, "Only an Administrator can hide a comment.")
    if comment is not None and comment.is_hidden:
        return Decision(False, "This comment is already hidden.")
    return ALLOWED


def edit_comment(comment, user, text):
    """Change a comment's text (its author, within the edit window); the earlier text stays in its history."""
    text = clean_comment_text(text)
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        can_edit_comment(user, comment).enforce()
        if comment.text == text:
            return comment
        comment.text = text
        comment.edited_at = timezone.now()
        comment._change_reason = "Comment edited"
        comment.save()
    return comment


def hide_comment(comment, user, reason):
    """An Administrator hides a comment, with a reason shown in its place; its text stays in its history."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why you are hiding this comment."})
    if len(reason) > 500:
        raise ValidationError({"reason": "Reason must be 500 characters or fewer."})
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        can_hide_comment(user, comment).enforce()
        comment.hidden_at = timezone.now()
        comment.hidden_by = user
        comment.hidden_reason = reason
        comment._change_reason = "Comment hidden"
        comment.save()
    return comment


def comments_on(record):
    record_type, record_id = record_key(record)
    return comments_query(record_type.pk, record_id)


def comments_query(record_type, record_id):
    """The comments on the record of this content type id and id: the same query for every record, so a record's
    page caches its SQL (nhs_joint/prefetch.py, ``cached_query``)."""
    return Comment.objects.filter(record_type=record_type, record_id=record_id).select_related("author", "hidden_by")


# Board papers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    media_type: str
    extensions: tuple
    words: str


KINDS = [
    FileKind("application/pdf", (".pdf",), "PDF"),
    FileKind("application/msword", (".doc",), "Word document"),
    FileKind("application/vnd.ms-excel", (".xls",), "Excel workbook"),
    FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",), "Word document"),
    FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",), "Excel workbook"),
    FileKind("application/vnd.oasis.opendocument.text", (".odt",), "OpenDocument text"),
    FileKind("application/vnd.oasis.opendocument.spreadsheet", (".ods",), "OpenDocument spreadsheet"),
    FileKind("application/vnd.oasis.opendocument.presentation", (".odp",), "OpenDocument presentation"),
]
KIND_BY_TYPE = {kind.media_type: kind for kind in KINDS}
ACCEPTED_EXTENSIONS = ",".join(ext for kind in KINDS for ext in kind.extensions)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of Word and Excel files before 2007
OOXML_MAIN_PARTS = {
    b"wordprocessingml.document.main+xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"spreadsheetml.sheet.main+xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
WRONG_TYPE = "The selected file must be a PDF, Word, Excel or OpenDocument file"
MAX_ZIP_ENTRIES = 10000
# The central directory of a zip with MAX_ZIP_ENTRIES entries, at a generous 128 bytes each (a record is 46 bytes
# and its name): zipfile builds an object for every record in it, so its size bounds that work.
MAX_ZIP_DIRECTORY_BYTES = MAX_ZIP_ENTRIES * 128
END_OF_DIRECTORY = struct.Struct("<4s4H2LH")  # a zip's last record: entries, directory size, comment length


def max_bytes():
    return settings.ATTACHMENT_MAX_BYTES


def limit_in_words():
    limit = settings.ATTACHMENT_MAX_BYTES
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    return filesizeformat(limit)


def too_large_message():
    return f"The selected file must be smaller than {limit_in_words()}"


def _zip_directory_within_bounds(upload):
    """Whether a zip's end-of-central-directory record (its last 22 bytes, before a comment of up to 64 KB)
    declares at most MAX_ZIP_ENTRIES entries in at most MAX_ZIP_DIRECTORY_BYTES: read before zipfile reads
    the directory, which builds an object per entry (215,000 empty entries cost 1.2 s and 118 MB)."""
    upload.seek(0, 2)
    size = upload.tell()
    tail_size = min(size, END_OF_DIRECTORY.size + 0xFFFF)
    upload.seek(size - tail_size)
    tail = upload.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < END_OF_DIRECTORY.size:
        return False
    _, _, _, on_this_disk, entries, directory_size, _, _ = END_OF_DIRECTORY.unpack_from(tail, at)
    # A ZIP64 file says 0xFFFF here: more entries than a paper has.
    return max(on_this_disk, entries) <= MAX_ZIP_ENTRIES and directory_size <= MAX_ZIP_DIRECTORY_BYTES


def _zip_media_type(upload):
    """The media type of an OOXML or ODF file, from the entries that say what the container holds."""
    try:
        if not _zip_directory_within_bounds(upload):
            return None
        with zipfile.ZipFile(upload) as archive_file:
            entries = archive_file.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return None
            names = {entry.filename for entry in entries}
            if "mimetype" in names:
                with archive_file.open("mimetype") as entry:
                    declared = entry.read(100).decode("ascii", "replace").strip()
                if declared in KIND_BY_TYPE and declared.startswith("application/vnd.oasis.opendocument."):
                    return declared
            if "[Content_Types].xml" in names:
                with archive_file.open("[Content_Types].xml") as entry:
                    content_types = entry.read(256 * 1024)
                for marker, media_type in OOXML_MAIN_PARTS.items():
                    if marker in content_types:
                        return media_type
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError, NotImplementedError, ValueError):
        return None
    finally:
        upload.seek(0)
    return None


def media_type_of(upload):
    """What the file is, from its content (its name only tells the old Word from the old Excel), or None."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    extension = posixpath.splitext(upload.name or "")[1].lower()
    if head.startswith(OLE2):
        return {".doc": "application/msword", ".xls": "application/vnd.ms-excel"}.get(extension)
    if head.startswith(b"PK\x03\x04"):
        return _zip_media_type(upload)
    guessed = filetype.guess(head)
    if guessed is not None and guessed.mime == "application/pdf":
        return "application/pdf"
    return None


def check_upload(upload):
    """The file's media type, or a ValidationError naming the file field (nothing is stored before this)."""
    if upload is None:
        raise ValidationError({"file": "Select a file"})
    if upload.size > max_bytes():
        raise ValidationError({"file": too_large_message()})
    if upload.size == 0:
        raise ValidationError({"file": "The selected file is empty"})
    media_type = media_type_of(upload)
    if media_type is None:
        raise ValidationError({"file": WRONG_TYPE})
    extension = posixpath.splitext(upload.name or "")[1].lower()
    kind = KIND_BY_TYPE[media_type]
    if extension not in kind.extensions:
        raise ValidationError({"file": f"The selected file is a {kind.words}: its name must end {kind.extensions[0]}"})
    return media_type


def attachment_storage():
    return storages["attachments"]


def _store(upload, record_type, record_id):
    safe = get_valid_filename(posixpath.basename(upload.name or "paper"))[-100:] or "paper"
    name = f"{record_type.app_label}.{record_type.model}/{record_id}/{uuid.uuid4().hex}/{safe}"
    upload.seek(0)
    return attachment_storage().save(name, upload)


def _title_from(upload):
    return posixpath.splitext(posixpath.basename(upload.name or ""))[0][:200] or "Board paper"


def clean_title(title):
    title = (title or "").strip()
    if len(title) > 200:
        raise ValidationError({"title": "Title must be 200 characters or fewer"})
    return title


def attach(record, user, upload, title=""):
    """Store ``upload`` and attach it to ``record``. The file is checked first: a refused one is never stored."""
    title = clean_title(title)
    media_type = check_upload(upload)
    record_type, record_id = record_key(record)
    stored_name = _store(upload, record_type, record_id)
    try:
        with transaction.atomic():
            attachment = Attachment(
                record_type=record_type,
                record_id=record_id,
                title=title or _title_from(upload),
                stored_name=stored_name,
                file_name=posixpath.basename(upload.name)[:255],
                media_type=media_type,
                size=upload.size,
                uploaded_by=user,
                uploaded_at=timezone.now(),
            )
            attachment._change_reason = "Paper added"
            attachment.save()
    except BaseException:
        attachment_storage().delete(stored_name)
        raise
    return attachment


def replace(attachment, user, upload, title=""):
    """A new version of a paper. The earlier file stays in storage and downloadable from the paper's history."""
    title = clean_title(title)
    media_type = check_upload(upload)
    stored_name = _store(upload, attachment.record_type, attachment.record_id)
    try:
        with transaction.atomic():
            attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
            attachment.stored_name = stored_name
            attachment.file_name = posixpath.basename(upload.name)[:255]
            attachment.media_type = media_type
            attachment.size = upload.size
            attachment.uploaded_by = user
            attachment.uploaded_at = timezone.now()
            if title:
                attachment.title = title
            attachment._change_reason = "New version uploaded"
            attachment.save()
    except BaseException:
        attachment_storage().delete(stored_name)
        raise
    return attachment


def archive_attachment(attachment):
    """Take a paper off its record's page; its files and history are kept."""
    if attachment.archived_at is None:
        with transaction.atomic():
            attachment.archived_at = timezone.now()
            attachment._change_reason = "Paper archived"
            attachment.save()
    return attachment


def can_attach(user, record, resource):
    """Board papers are added, replaced and archived by those who may change the record."""
    if resource is None:
        return Decision(False, "Papers cannot be attached to this record.")
    return resource.permissions.change(user, record)


def attachments_on(record):
    record_type, record_id = record_key(record)
    return attachments_query(record_type.pk, record_id)


def attachments_query(record_type, record_id):
    """The papers on the record of this content type id and id, as ``comments_query``."""
    return Attachment.objects.filter(record_type=record_type, record_id=record_id, archived_at__isnull=True)


def earlier_versions(attachments):
    """For each paper, its earlier files (newest first), from its history: {attachment id: [version, ...]}."""
    by_id = {a.pk: a for a in attachments}
    versions = {pk: [] for pk in by_id}
    if not by_id:
        return versions
    seen = {pk: {a.stored_name} for pk, a in by_id.items()}
    rows = (
        Attachment.history.filter(id__in=list(by_id))
        .order_by("-history_date", "-history_id")
        .values("id", "history_id", "stored_name", "file_name", "size", "uploaded_at")
    )
    for row in rows:
        if row["stored_name"] in seen[row["id"]]:
            continue
        seen[row["id"]].add(row["stored_name"])
        versions[row["id"]].append(row)
    return versions


def version_of_attachment(attachment, history_id):
    """An earlier (or the current) file of a paper, from its history, or Http404."""
    row = Attachment.history.filter(id=attachment.pk, history_id=history_id).first()
    if row is None:
        raise Http404("No such version of this paper.")
    return row


# Saved views -----------------------------------------------------------------------------------------------

MAX_QUERY_CHARS = 2000


def list_resources():
    """The lists a view can be saved from, by name."""
    return {resource.name: resource for resource in registry.declared_resources()}


def clean_saved_view(name, list_name, query):
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter a name for this view"
    elif len(name) > 100:
        errors["name"] = "Name must be 100 characters or fewer"
    if list_name not in list_resources():
        errors["list_name"] = "Choose a list the portal has"
    query = (query or "").strip().lstrip("?")
    if len(query) > MAX_QUERY_CHARS:
        errors["query"] = f"The filters must be {MAX_QUERY_CHARS:,} characters or fewer"
    if errors:
        raise ValidationError(errors)
    # Kept as the list's own query string, without its page or an export.
    params = QueryDict(query, mutable=True)
    for key in ("page", "export"):
        params.pop(key, None)
    return name, list_name, params.urlencode()


def save_view(user, name, list_name, query):
    name, list_name, query = clean_saved_view(name, list_name, query)
    if SavedView.objects.filter(owner=user, name=name).exists():
        raise ValidationError({"name": "You already have a saved view with this name: choose another name"})
    with transaction.atomic():
        return SavedView.objects.create(owner=user, name=name, list_name=list_name, query=query)


def saved_view_url(saved):
    resource = list_resources().get(saved.list_name)
    base = resource.list_url() if resource is not None else "/"
    return f"{base}?{saved.query}" if saved.query else base


def saved_views_for(user):
    """A person's saved views, by name: each with its ``url`` (the list with its filters) and the list's name."""
    views = list(SavedView.objects.filter(owner=user)) if user.is_authenticated else []
    resources = list_resources()
    for saved in views:
        saved.url = saved_view_url(saved)
        resource = resources.get(saved.list_name)
        saved.list_title = str(resource.verbose_name_plural).capitalize() if resource else saved.list_name
    return views
