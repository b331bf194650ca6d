"""Limits on uploaded board papers enforced while they arrive.

Put first among a request's upload handlers, it passes each file's chunks on until the file passes
ATTACHMENT_MAX_BYTES, then skips the rest of it: nothing beyond the limit is held in memory or written to disk,
and the request remembers which field was too large so that the form can say so. A file in any other field
than the one the page takes (``file``), or a second file in it, is skipped as it arrives, never written
anywhere, and remembered so that the request is refused naming it.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

FILE_FIELD = "file"


class BoundedUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.seen = set()

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.received = 0
        if field_name != FILE_FIELD or field_name in self.seen:
            self.request.unexpected_uploads.append(field_name)
            raise SkipFile()
        self.seen.add(field_name)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            self.request.refused_uploads[self.field_name] = self.file_name
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers (in memory, or a temporary file) keep the file


def bound_uploads(request):
    """Limit the files of ``request`` (call before its body is read)."""
    request.upload_handlers.insert(0, BoundedUploadHandler(request))
    request.refused_uploads = {}
    request.unexpected_uploads = []


def refused(request, field=FILE_FIELD):
    return field in (getattr(request, "refused_uploads", None) or {})


def unexpected_message(request):
    """The message when the request carried files the page does not take, naming their fields; else ""."""
    fields = getattr(request, "unexpected_uploads", None) or []
    if not fields:
        return ""
    names = ", ".join(f"“{name}”" for name in dict.fromkeys(fields))
    return f"Send one file, in the field “{FILE_FIELD}”: the file in {names} is not taken"
