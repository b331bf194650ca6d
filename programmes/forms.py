from django import forms
from django.utils.text import slugify

from appointments.models import Appointment
from nhs_joint.forms import PortalModelForm
from nhs_joint.permissions import bodies_error, can_edit, can_save
from organisations.models import NationalBody, StatutoryDuty

from .models import Audience, BoardApproval, Programme, RegionalDelivery, Workstream
from .themes import theme_choices, theme_name


class ProgrammeForm(PortalModelForm):
    hints = {
        "title": "The name people know the programme by, for example “Elective care and referral to treatment”.",
        "summary": "One or two sentences: what the programme is for.",
        "description": "What the programme does, for whom, and how. The duplication report compares these words.",
        "theme": "The theme the programme is grouped under on lists and reports.",
        "bodies": "Tick both if NHS England and NHS Improvement run it together.",
        "integration_stage": "How far the two bodies run it together. The glossary explains each stage.",
        "accountable_body": "The body the law holds to account for this work. It must be one of the bodies that "
        "run it.",
        "duty": "The statutory duty of the accountable body that this programme delivers, if there is one.",
        "status": "Proposed until each Board approves it; active while the work goes on.",
        "start_date": "The day the programme starts.",
        "end_date": "Leave empty if it has no planned end.",
        "senior_responsible_owner": "The national or programme director who answers for the programme.",
    }

    bodies = forms.ModelMultipleChoiceField(
        queryset=NationalBody.objects.all(), widget=forms.CheckboxSelectMultiple, label="Bodies that run it"
    )
    # Chosen from the themes' names (programmes/themes.py), never typed as a code.
    theme = forms.ChoiceField(required=False, label="Theme")

    class Meta:
        model = Programme
        fields = [
            "title",
            "summary",
            "description",
            "theme",
            "bodies",
            "integration_stage",
            "accountable_body",
            "duty",
            "status",
            "start_date",
            "end_date",
            "senior_responsible_owner",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea,
            "integration_stage": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "No theme"), *theme_choices()]
        current = self.instance.theme
        if current and current not in dict(choices):  # a theme no longer listed stays choosable on its programme
            choices.append((current, theme_name(current)))
        self.fields["theme"].choices = choices
        self.fields["duty"].queryset = StatutoryDuty.objects.select_related("body")
        self.fields["senior_responsible_owner"].queryset = Appointment.objects.select_related("person").filter(
            role__in=[Appointment.Role.NATIONAL_DIRECTOR, Appointment.Role.PROGRAMME_DIRECTOR]
        )

    def clean(self):
        cleaned = super().clean()
        bodies = cleaned.get("bodies")
        # The model checks accountability against the bodies chosen here (Programme.clean).
        self.instance.bodies_to_save = list(bodies or [])
        if bodies is not None and self.user is not None:
            message = bodies_error(self.user, bodies)
            if message:
                self.add_error("bodies", message)
        return cleaned

    def save(self, commit=True):
        if not self.instance.pk and not self.instance.slug:
            self.instance.slug = unique_slug(self.cleaned_data["title"])
        return super().save(commit)


def unique_slug(title):
    base = slugify(title)[:90] or "programme"
    slug, n = base, 2
    while Programme.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class ProgrammeChildForm(PortalModelForm):
    """A record that belongs to a programme: the user must be able to edit that programme."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "programme" in self.fields:
            self.fields["programme"].queryset = Programme.objects.order_by("title")

    def clean_programme(self):
        programme = self.cleaned_data["programme"]
        if self.user is not None:
            decision = can_edit(self.user, programme)
            if not decision:
                raise forms.ValidationError(decision.reason)
        return programme

    def _post_clean(self):
        super()._post_clean()
        # The record as it is and as it would be saved: who may write it (a Board's decision, a workstream's
        # owning body, an expectation's issuing body, a measure's agreeing bodies).
        if self.user is not None and not self.errors:
            for field in self.instance._meta.many_to_many:  # set after saving: told to the rules beforehand
                if field.name in self.cleaned_data:
                    setattr(self.instance, f"{field.name}_to_save", list(self.cleaned_data[field.name]))
            decision = can_save(self.user, self.instance)
            if not decision:
                self.add_error(decision.field if decision.field in self.fields else None, decision.reason)


class WorkstreamForm(ProgrammeChildForm):
    hints = {
        "programme": "The programme this work is part of.",
        "title": "A short name for this part of the work, for example “Winter planning and escalation”.",
        "description": "What this part of the work does. The duplication report compares these words.",
        "body": "The body that owns this part of the work. It must run the programme.",
        "audiences": "Who the work is aimed at. Tick all that apply.",
        "start_date": "The day this work starts.",
        "end_date": "Leave empty if it has no planned end.",
    }

    audiences = forms.MultipleChoiceField(choices=Audience.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Workstream
        fields = ["programme", "title", "description", "body", "regions", "audiences", "start_date", "end_date"]
        widgets = {"description": forms.Textarea, "regions": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from regions.models import Region

        self.fields["regions"].queryset = Region.objects.active()
        self.fields["regions"].help_text = "Leave all unticked for work that is not regional."


class BoardApprovalForm(ProgrammeChildForm):
    hints = {
        "programme": "The programme the Board decided on.",
        "body": "The body whose Board decided. It must run the programme.",
        "decision": "What the Board decided.",
        "date": "The day of the Board meeting.",
        "minute_reference": "The reference of the minute that records the decision, for example “BM/18/27”.",
    }

    class Meta:
        model = BoardApproval
        fields = ["programme", "body", "decision", "date", "minute_reference"]
        widgets = {"decision": forms.RadioSelect}


class RegionalDeliveryForm(PortalModelForm):
    hints = {
        "rag": "Red if delivery is at risk, amber if there are problems you are managing, green if on track.",
        "lead": "The person who leads this programme in the region.",
        "note": "What lies behind the status, in a sentence or two.",
    }

    class Meta:
        model = RegionalDelivery
        fields = ["rag", "lead", "note"]
        widgets = {"rag": forms.RadioSelect, "note": forms.Textarea}
