"""The pages of comments, board papers and saved views. The panels on records' pages: panels.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from . import services, uploads
from .forms import AttachmentForm, CommentForm, HideForm, SavedViewForm, add_errors
from .models import Attachment, Comment, SavedView


def form_page(request, form, *, title, caption="", intro="", submit, cancel_url, multipart=False, status=200):
    return render(
        request,
        "collaboration/form.jinja",
        {
            "page_title": title,
            "caption": caption,
            "intro": intro,
            "form": form,
            "submit": submit,
            "cancel_url": cancel_url,
            "multipart": multipart,
            "form_has_errors": bool(form.errors),
        },
        status=status,
    )


def _record_or_404(record_type, record_id, user, allowed):
    try:
        return services.find_record(record_type, record_id, user, allowed)
    except ValidationError:
        raise Http404("Nothing can be added to this kind of record.") from None


def _back_to(record, anchor):
    return HttpResponseRedirect(f"{record.get_absolute_url()}#{anchor}")


# Comments --------------------------------------------------------------------------------------------------


class CommentCreate(View):
    http_method_names = ["get", "post"]

    def get(self, request, record_type, record_id):
        record, _ = _record_or_404(record_type, record_id, request.user, services.commentable_types())
        return self.page(request, CommentForm(), record)

    def post(self, request, record_type, record_id):
        record, _ = _record_or_404(record_type, record_id, request.user, services.commentable_types())
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                services.post_comment(record, request.user, form.cleaned_data["text"])
            except ValidationError as error:
                add_errors(form, error)
        if form.errors:
            return self.page(request, form, record, status=400)
        messages.success(request, "Your comment has been posted.")
        return _back_to(record, "comments")

    def page(self, request, form, record, status=200):
        return form_page(
            request,
            form,
            title="Add a comment",
            caption=str(record),
            submit="Post comment",
            cancel_url=record.get_absolute_url(),
            status=status,
        )


class CommentEdit(View):
    http_method_names = ["get", "post"]

    def comment(self, request, pk):
        comment = get_object_or_404(Comment, pk=pk)
        record, _ = services.record_of(comment, request.user)
        services.can_edit_comment(request.user, comment).enforce()
        return comment, record

    def get(self, request, pk):
        comment, record = self.comment(request, pk)
        return self.page(request, CommentForm(initial={"text": comment.text}), record)

    def post(self, request, pk):
        comment, record = self.comment(request, pk)
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                services.edit_comment(comment, request.user, form.cleaned_data["text"])
            except ValidationError as error:
                add_errors(form, error)
        if form.errors:
            return self.page(request, form, record, status=400)
        messages.success(request, "Your comment has been changed.")
        return _back_to(record, f"comment-{comment.pk}")

    def page(self, request, form, record, status=200):
        return form_page(
            request,
            form,
            title="Edit your comment",
            caption=str(record),
            intro="The earlier text is kept in the comment's history.",
            submit="Save comment",
            cancel_url=record.get_absolute_url(),
            status=status,
        )


class CommentHide(View):
    http_method_names = ["get", "post"]

    def comment(self, request, pk):
        comment = get_object_or_404(Comment, pk=pk)
        record, _ = services.record_of(comment, request.user)
        services.can_hide_comment(request.user, comment).enforce()
        return comment, record

    def get(self, request, pk):
        comment, record = self.comment(request, pk)
        return self.page(request, HideForm(), record, comment)

    def post(self, request, pk):
        comment, record = self.comment(request, pk)
        form = HideForm(request.POST)
        if form.is_valid():
            try:
                services.hide_comment(comment, request.user, form.cleaned_data["reason"])
            except ValidationError as error:
                add_errors(form, error)
        if form.errors:
            return self.page(request, form, record, comment, status=400)
        messages.success(request, "The comment has been hidden. Its text is kept in its history.")
        return _back_to(record, f"comment-{comment.pk}")

    def page(self, request, form, record, comment, status=200):
        return form_page(
            request,
            form,
            title="Hide a comment",
            caption=str(record),
            intro=f"{comment} : the comment is not deleted. Its text stays in its history.",
            submit="Hide comment",
            cancel_url=record.get_absolute_url(),
            status=status,
        )


# Board papers ----------------------------------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")
class UploadView(View):
    """A page that takes a file. The size limit is set before the body is read, then the CSRF check is made."""

    http_method_names = ["get", "post"]

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            uploads.bound_uploads(request)
        return csrf_protect(super().dispatch)(request, *args, **kwargs)

    def form(self, request):
        if request.method != "POST":
            return AttachmentForm()
        return AttachmentForm(
            request.POST,
            request.FILES,
            too_large=uploads.refused(request),
            unexpected=uploads.unexpected_message(request),
        )


class AttachmentCreate(UploadView):
    def record(self, request, record_type, record_id):
        record, resource = _record_or_404(record_type, record_id, request.user, services.attachable_types())
        services.can_attach(request.user, record, resource).enforce()
        return record

    def get(self, request, record_type, record_id):
        record = self.record(request, record_type, record_id)
        return self.page(request, self.form(request), record)

    def post(self, request, record_type, record_id):
        record = self.record(request, record_type, record_id)
        form = self.form(request)
        if form.is_valid():
            try:
                services.attach(record, request.user, form.cleaned_data["file"], form.cleaned_data["title"])
            except ValidationError as error:
                add_errors(form, error)
        if form.errors:
            return self.page(request, form, record, status=400)
        messages.success(request, "The paper has been added.")
        return _back_to(record, "papers")

    def page(self, request, form, record, status=200):
        return form_page(
            request,
            form,
            title="Add a paper",
            caption=str(record),
            intro="Only people signed in to the portal can open it.",
            submit="Add paper",
            cancel_url=record.get_absolute_url(),
            multipart=True,
            status=status,
        )


def _attachment(request, pk, change=False):
    # An archived paper is refused at every address, its downloads included, as the API refuses it (404).
    attachment = get_object_or_404(Attachment, pk=pk, archived_at__isnull=True)
    record, resource = services.record_of(attachment, request.user)
    if record is None:
        raise Http404("The record of this paper no longer exists.")
    if change:
        services.can_attach(request.user, record, resource).enforce()
    return attachment, record


class AttachmentReplace(UploadView):
    def get(self, request, pk):
        attachment, record = _attachment(request, pk, change=True)
        return self.page(request, self.form(request), record, attachment)

    def post(self, request, pk):
        attachment, record = _attachment(request, pk, change=True)
        form = self.form(request)
        if form.is_valid():
            try:
                services.replace(attachment, request.user, form.cleaned_data["file"], form.cleaned_data["title"])
            except ValidationError as error:
                add_errors(form, error)
        if form.errors:
            return self.page(request, form, record, attachment, status=400)
        messages.success(request, "The new version has been uploaded. The earlier one is kept in its history.")
        return _back_to(record, f"paper-{attachment.pk}")

    def page(self, request, form, record, attachment, status=200):
        return form_page(
            request,
            form,
            title=f"Upload a new version of {attachment.title}",
            caption=str(record),
            intro="The earlier version stays available from the paper's earlier versions. "
            "Leave the title empty to keep it.",
            submit="Upload new version",
            cancel_url=record.get_absolute_url(),
            multipart=True,
            status=status,
        )


class AttachmentArchive(View):
    http_method_names = ["get", "post"]

    def get(self, request, pk):
        attachment, record = _attachment(request, pk, change=True)
        return render(
            request,
            "collaboration/archive_paper.jinja",
            {"page_title": f"Archive {attachment.title}", "attachment": attachment, "record": record},
        )

    def post(self, request, pk):
        attachment, record = _attachment(request, pk, change=True)
        services.archive_attachment(attachment)
        messages.success(request, f"“{attachment.title}” archived. Its files and history are kept.")
        return _back_to(record, "papers")


def file_response(stored_name, file_name, media_type):
    """A stored file as a download: never shown in the browser, never sniffed, never cached by others."""
    try:
        handle = services.attachment_storage().open(stored_name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("This file could not be found.") from None
    response = FileResponse(handle, as_attachment=True, filename=file_name, content_type=media_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def download(request, pk):
    attachment, _ = _attachment(request, pk)
    return file_response(attachment.stored_name, attachment.file_name, attachment.media_type)


def download_version(request, pk, version):
    attachment, _ = _attachment(request, pk)
    row = services.version_of_attachment(attachment, version)
    return file_response(row.stored_name, row.file_name, row.media_type)


# Saved views -----------------------------------------------------------------------------------------------


class SavedViews(View):
    """Your saved views: each opens its list with the filters it was saved with."""

    http_method_names = ["get", "post"]

    def get(self, request):
        return render(
            request,
            "collaboration/saved_views.jinja",
            {
                "page_title": "Your saved views",
                "breadcrumbs": [{"text": "Home", "href": "/"}],
                "saved_views": services.saved_views_for(request.user),
            },
        )

    def post(self, request):
        """Save a list's filters under a name (the "Save this view" control of every list)."""
        form = SavedViewForm(request.POST)
        if form.is_valid():
            try:
                saved = services.save_view(request.user, **form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
        if form.errors:
            resource = services.list_resources().get(request.POST.get("list_name", ""))
            return form_page(
                request,
                form,
                title="Save this view",
                intro="Saving keeps this list's filters under a name, on your saved views page.",
                submit="Save this view",
                cancel_url=resource.list_url() if resource else reverse("saved-views"),
                status=400,
            )
        messages.success(request, f"Saved as “{saved.name}”. Find it on your saved views page.")
        return HttpResponseRedirect(services.saved_view_url(saved))


class SavedViewRemove(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        saved = get_object_or_404(SavedView, pk=pk, owner=request.user)
        name = saved.name
        saved.delete()
        messages.success(request, f"“{name}” removed from your saved views.")
        return HttpResponseRedirect(reverse("saved-views"))


urlpatterns = [
    path("comments/<str:record_type>/<int:record_id>/", CommentCreate.as_view(), name="comment-create"),
    path("comments/<int:pk>/edit/", CommentEdit.as_view(), name="comment-edit"),
    path("comments/<int:pk>/hide/", CommentHide.as_view(), name="comment-hide"),
    path("papers/<str:record_type>/<int:record_id>/new/", AttachmentCreate.as_view(), name="attachment-create"),
    path("papers/<int:pk>/replace/", AttachmentReplace.as_view(), name="attachment-replace"),
    path("papers/<int:pk>/archive/", AttachmentArchive.as_view(), name="attachment-archive"),
    path("papers/<int:pk>/download/", download, name="attachment-download"),
    path("papers/<int:pk>/versions/<int:version>/download/", download_version, name="attachment-version"),
    path("saved-views/", SavedViews.as_view(), name="saved-views"),
    path("saved-views/<int:pk>/remove/", SavedViewRemove.as_view(), name="saved-view-remove"),
]
