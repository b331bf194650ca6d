"""A size limit on uploaded board papers enforced while they arrive.

Put first among a request's upload handlers, it passes each file's chunks on until the file passes
ATTACHMENT_MAX_BYTES, then skips the rest of it: nothing beyond the limit is held in memory or written to disk,
and the request remembers which field was too large so that the form can say so.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class BoundedUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            refused = getattr(self.request, "refused_uploads", None)
            if refused is None:
                refused = self.request.refused_uploads = {}
            refused[self.field_name] = self.file_name
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers (in memory, or a temporary file) keep the file


def bound_uploads(request):
    """Limit the size of the files of ``request`` (call before its body is read)."""
    request.upload_handlers.insert(0, BoundedUploadHandler(request))
    request.refused_uploads = {}


def refused(request, field="file"):
    return field in (getattr(request, "refused_uploads", None) or {})
