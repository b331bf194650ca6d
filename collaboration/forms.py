from django import forms
from django.core.exceptions import ValidationError

from nhs_joint.forms import Form

from . import services
from .models import COMMENT_MAX_CHARS


def add_errors(form, error):
    """A service's ValidationError (by field) onto the form, so that each message names its field."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class CommentForm(Form):
    text = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=COMMENT_MAX_CHARS,
        help_text=f"Plain text, up to {COMMENT_MAX_CHARS:,} characters. Web addresses become links. "
        f"You can edit your comment for {services.COMMENT_EDIT_MINUTES} minutes after posting it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages.update(
            required="Enter your comment",
            max_length=f"Comment must be {COMMENT_MAX_CHARS:,} characters or fewer",
        )


class HideForm(Form):
    reason = forms.CharField(
        label="Why are you hiding this comment?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="People will see “Comment hidden by an administrator:” followed by your reason.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages.update(
            required="Enter why you are hiding this comment", max_length="Reason must be 500 characters or fewer"
        )


class AttachmentForm(Form):
    title = forms.CharField(
        label="Title", required=False, max_length=200, help_text="For example, NHS England Board paper, March 2019."
    )
    file = forms.FileField(
        label="File",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": services.ACCEPTED_EXTENSIONS}),
        help_text="A PDF, Word, Excel or OpenDocument file, smaller than {}.",
    )

    def __init__(self, *args, too_large=False, unexpected="", **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.unexpected = unexpected  # files sent in other fields (collaboration.uploads): refused, naming them
        self.fields["file"].help_text = self.fields["file"].help_text.format(services.limit_in_words())
        self.fields["title"].error_messages["max_length"] = "Title must be 200 characters or fewer"
        self.fields["file"].error_messages.update(
            empty="The selected file is empty", invalid="Select a file", missing="Select a file"
        )

    def clean_file(self):
        if self.unexpected:
            raise ValidationError(self.unexpected)
        if self.too_large:
            raise ValidationError(services.too_large_message())
        upload = self.cleaned_data.get("file")
        try:
            self.media_type = services.check_upload(upload)
        except ValidationError as error:
            raise ValidationError(error.message_dict["file"]) from None
        return upload


class SavedViewForm(Form):
    name = forms.CharField(label="Name this view", max_length=100)
    list_name = forms.CharField(widget=forms.HiddenInput)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=services.MAX_QUERY_CHARS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages.update(
            required="Enter a name for this view", max_length="Name must be 100 characters or fewer"
        )
