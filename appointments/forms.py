from decimal import Decimal

from django import forms
from django.db import transaction

from nhs_joint.forms import PortalModelForm
from nhs_joint.permissions import bodies_error
from organisations.models import NationalBody

from .models import Appointment, Person, check_shares


class PersonForm(PortalModelForm):
    hints = {
        "name": "Their full name, as they write it.",
        "email": "Their work email address, for example “jo.okafor@nhs.net”.",
    }

    class Meta:
        model = Person
        fields = ["name", "email"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = Person.objects.filter(email=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another person already has this email address.")
        return email


class AppointmentForm(PortalModelForm):
    hints = {
        "person": "The person who holds the post.",
        "title": "The post's title, for example “Regional Director, London”.",
        "role": "The kind of post.",
        "region": "Leave as “No region” for a national post.",
        "programme": "The programme the post works for, if it works for one.",
        "start_date": "The day they started in the post.",
        "end_date": "Leave empty while they hold it.",
    }

    """An appointment with one share field per body: a joint appointment has both."""

    class Meta:
        model = Appointment
        fields = ["person", "title", "role", "region", "programme", "start_date", "end_date"]
        widgets = {"role": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies = list(NationalBody.objects.order_by("code"))
        current = {}
        if self.instance.pk:
            current = {share.body_id: share.fte_percent for share in self.instance.shares.all()}
        for body in self.bodies:
            self.fields[self.share_field(body)] = forms.DecimalField(
                label=f"{body.name} share (% of full time)",
                required=False,
                min_value=0,
                max_value=100,
                decimal_places=2,
                initial=current.get(body.pk),
                help_text="Leave empty if this body has no share. Shares must total 100.",
            )
        self.fields["region"].empty_label = "No region (a national post)"
        self.fields["programme"].empty_label = "No programme"
        from nhs_joint.forms import name_the_field

        name_the_field(self)

    @staticmethod
    def share_field(body):
        return f"share_{body.code.lower()}"

    def shares(self):
        result = []
        for body in self.bodies:
            value = self.cleaned_data.get(self.share_field(body))
            if value is not None and value != Decimal(0):
                result.append((body, value))
        return result

    def clean(self):
        cleaned = super().clean()
        if any(self.share_field(b) in self.errors for b in self.bodies):
            return cleaned
        shares = self.shares()
        message = check_shares(shares)
        if message:
            self.add_error(self.share_field(self.bodies[0]), message)
        elif self.user is not None:
            message = bodies_error(self.user, [body for body, _ in shares])
            if message:
                self.add_error(self.share_field(self.bodies[0]), message)
        return cleaned

    def save(self, commit=True):
        with transaction.atomic():
            appointment = super().save(commit=True)
            appointment.set_shares({body.pk: pct for body, pct in self.shares()})
        return appointment
