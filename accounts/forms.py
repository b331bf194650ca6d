from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.models import Group

from nhs_joint.forms import PortalModelForm
from organisations.models import NationalBody, Organisation
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
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "bodies",
            "region",
            "role",
            "organisation",
            "local_system",
        ]
        help_texts = {
            "local_system": "For a Partner who speaks for a local health system rather than one organisation.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.active()
        self.fields["region"].empty_label = "No region (national)"
        self.fields[
            "username"
        ].help_text = "What they type to sign in: up to 150 letters, numbers and the characters @ . + - _ only."
        self.fields["email"].required = True
        self.fields["bodies"].required = False  # a Partner works for neither body: checked in clean()
        # Organisations are thousands: chosen by name (or ODS code) from the suggestions as the Administrator
        # types (nhs_joint/suggest.py); the form sends the ODS code.
        self.fields["organisation"] = forms.ModelChoiceField(
            queryset=Organisation.objects.all(),
            to_field_name="ods_code",
            required=False,
            label="Organisation",
            help_text="For a Partner: the trust or CCG they speak for. Type its name or ODS code to find it.",
            error_messages={"invalid_choice": "Select an organisation from the list."},
        )
        self.fields["local_system"].empty_label = "Not linked"
        if self.instance.pk:
            roles = [r for r in Role.ALL if r in self.instance.roles]
            self.initial.setdefault("role", roles[0] if roles else None)
        from nhs_joint.forms import name_the_field

        name_the_field(self)
        self.fields["organisation"].error_messages["invalid_choice"] = "Select an organisation from the list."

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.REGIONAL_DIRECTOR and not cleaned.get("region"):
            self.add_error("region", "A Regional director needs a region.")
        partner = cleaned.get("role") == Role.PARTNER
        if partner:
            if cleaned.get("organisation") and cleaned.get("local_system"):
                self.add_error("local_system", "Link a Partner to an organisation or a local health system, not both.")
            elif not (cleaned.get("organisation") or cleaned.get("local_system")) and "organisation" not in self.errors:
                self.add_error("organisation", "Select the Partner's organisation or local health system.")
            if cleaned.get("bodies"):
                self.add_error("bodies", "A Partner works for neither body: untick the bodies.")
        else:
            if "bodies" in cleaned and not cleaned.get("bodies"):
                self.add_error("bodies", "Select the bodies this person works for.")
            for name in ("organisation", "local_system"):
                if cleaned.get(name):
                    self.add_error(name, "Only a Partner is linked to an organisation or local health system.")
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
        user.forget_access()
        return user


class ConfirmForm(forms.Form):
    """A form with nothing to fill in: the button is the confirmation."""


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Changing one's password: the current password is checked as a sign-in is (django-axes, through
    ``authenticate``), so a wrong one counts towards the lockout of the account and the address, and while
    they are locked out even the right one is refused (the lockout page answers, accounts.lockout)."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        signed_in = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if signed_in is None or signed_in.pk != self.user.pk:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password
