from django import forms
from django.contrib.auth.models import Group

from nhs_joint.forms import PortalModelForm
from organisations.models import NationalBody
from regions.models import Region

from .models import Role, User


class UserForm(PortalModelForm):
    """An Administrator's form for a user: names, bodies, region and role."""

    role = forms.ChoiceField(choices=[(r, r) for r in Role.ALL], widget=forms.RadioSelect, label="Role")
    bodies = forms.ModelMultipleChoiceField(
        queryset=NationalBody.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Bodies",
        help_text="Tick both for a joint appointment.",
    )

    hints = {
        "first_name": "As they write it.",
        "last_name": "As they write it.",
        "email": "Their work email address.",
        "region": "Regional directors need their region; leave as “No region” for national staff.",
        "role": "Staff read everything and edit their bodies' records; Regional directors also edit their "
        "region's delivery; Administrators manage users.",
    }

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "bodies", "region", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.active()
        self.fields["region"].empty_label = "No region (national)"
        self.fields[
            "username"
        ].help_text = "What they type to sign in: up to 150 letters, numbers and the characters @ . + - _ only."
        self.fields["email"].required = True
        if self.instance.pk:
            roles = [r for r in Role.ALL if r in self.instance.roles]
            self.initial.setdefault("role", roles[0] if roles else None)
        from nhs_joint.forms import name_the_field

        name_the_field(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.REGIONAL_DIRECTOR and not cleaned.get("region"):
            self.add_error("region", "A Regional director needs a region.")
        if cleaned.get("role") and self.instance.pk:
            from .services import last_administrator_refusal

            refusal = last_administrator_refusal(User.objects.get(pk=self.instance.pk), role=cleaned["role"])
            if refusal:
                self.add_error("role", refusal)
        return cleaned

    def save(self, commit=True):
        creating = self.instance.pk is None
        user = super().save(commit=False)
        if creating:
            user.set_unusable_password()
        user.save()
        self.save_m2m()
        user.groups.set([Group.objects.get(name=self.cleaned_data["role"])])
        user.__dict__.pop("roles", None)
        return user


class ConfirmForm(forms.Form):
    """A form with nothing to fill in: the button is the confirmation."""
