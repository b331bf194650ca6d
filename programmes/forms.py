import datetime as dt

from django import forms
from django.utils.text import slugify

from appointments.models import Appointment
from nhs_joint.forms import Form, NHSMonthField, PortalModelForm
from nhs_joint.permissions import bodies_error, can_edit, can_save
from organisations.models import NationalBody, StatutoryDuty

from .models import (
    Audience,
    BoardApproval,
    Expectation,
    Measure,
    Measurement,
    Programme,
    ProgrammeMeasure,
    RegionalDelivery,
    Workstream,
)
from .services import COLUMNS
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


class ExpectationForm(ProgrammeChildForm):
    hints = {
        "programme": "The programme that asks this.",
        "issued_by": "The body that asks it.",
        "audience": "Who is asked: providers, commissioners or local health systems.",
        "region": "Leave empty if it is asked of all England.",
        "measure": "The agreed measure the expectation is judged by.",
        "comparator": "Whether the measure must be at least or at most the target.",
        "target": "A number, in the measure's unit. For example, 95 for 95%.",
        "start_date": "The day the expectation starts to apply.",
        "due_date": "The day by which the target must be met.",
        "wording": "The expectation as it was written to those asked, if you have it.",
    }

    class Meta:
        model = Expectation
        fields = [
            "programme",
            "issued_by",
            "audience",
            "region",
            "measure",
            "comparator",
            "target",
            "start_date",
            "due_date",
            "wording",
        ]
        widgets = {"wording": forms.Textarea, "audience": forms.RadioSelect, "comparator": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from regions.models import Region

        self.fields["region"].queryset = Region.objects.active()
        self.fields["region"].empty_label = "All England"

    def clean(self):
        cleaned = super().clean()
        programme, issued_by = cleaned.get("programme"), cleaned.get("issued_by")
        if programme and issued_by and not programme.bodies.filter(pk=issued_by.pk).exists():
            self.add_error("issued_by", f"{issued_by.code} does not run {programme}: choose one of its bodies.")
        return cleaned


class MeasureForm(PortalModelForm):
    hints = {
        "code": "A short code for files and addresses: lower case letters, numbers and hyphens, for example "
        "“ae-4hr”. Pages show the name beside it.",
        "name": "The measure's name as people say it, for example “A&E attendances seen within 4 hours”.",
        "unit": "What the numbers count.",
        "direction": "Whether a higher or a lower number is better. The charts use this to tell improvement from "
        "concern.",
        "standard": "The national standard, if there is one. For example, 95 for 95%.",
        "comparator": "Whether the measure must be at least or at most the standard.",
    }

    class Meta:
        model = Measure
        fields = ["code", "name", "unit", "direction", "standard", "comparator"]
        widgets = {"direction": forms.RadioSelect, "unit": forms.RadioSelect}


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


class ProgrammeMeasureForm(ProgrammeChildForm):
    hints = {
        "programme": "The programme whose success this measure shows.",
        "measure": "The measure agreed with those the programme asks things of.",
        "target": "A number, in the measure's unit. For example, 95 for 95%.",
        "agreed_on": "The day the measure and target were agreed.",
        "agreed_by": "The bodies that agreed it. Tick all that apply.",
    }

    class Meta:
        model = ProgrammeMeasure
        fields = ["programme", "measure", "target", "agreed_on", "agreed_by"]
        widgets = {"agreed_by": forms.CheckboxSelectMultiple}


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


class MeasurementEntryForm(PortalModelForm):
    """One month's value of a measure, for a region or for England, entered on the measure's page."""

    month = NHSMonthField(label="Month", help_text="For example, 4 2019")

    class Meta:
        model = Measurement
        fields = ["region", "month", "value"]

    def __init__(self, *args, measure, **kwargs):
        super().__init__(*args, **kwargs)
        from regions.models import Region

        self.measure = self.instance.measure = measure
        self.instance.source = Measurement.Source.ENTERED
        self.fields["region"].queryset = Region.objects.active()
        self.fields["region"].empty_label = "England"
        self.fields["region"].required = False
        unit = (
            "a percentage between 0 and 100"
            if measure.unit == Measure.Unit.PERCENT
            else f"in {measure.get_unit_display().lower()}"
        )
        self.fields["value"].help_text = f"{measure.name}, {unit}."

    def clean(self):
        cleaned = super().clean()
        month, region = cleaned.get("month"), cleaned.get("region")
        if month and month > dt.date.today():
            self.add_error("month", "The month must not be in the future.")
        elif month and "region" not in self.errors:
            held = Measurement.objects.filter(measure=self.measure, region=region, month=month).first()
            if held is not None:
                self.add_error(
                    "month",
                    f"There is already a measurement for {region or 'England'} in {month:%B %Y} "
                    f"({held.value:f}, {held.get_source_display().lower()}).",
                )
        return cleaned


class MeasurementCorrectionForm(PortalModelForm):
    """A corrected monthly figure and why: the reason is kept in the figure's history with the change.

    Saved through the portal's edit page, so a figure changed by someone else meanwhile is merged or
    shown as a conflict like every other edit (nhs_joint/merge.py).
    """

    REASON_LENGTH = Measurement.history.model._meta.get_field("history_change_reason").max_length

    reason = forms.CharField(
        label="Reason for the correction",
        max_length=REASON_LENGTH,
        help_text=f"For example, “Revised in the published statistics”. At most {REASON_LENGTH} characters.",
    )

    class Meta:
        model = Measurement
        fields = ["value"]
        labels = {"value": "Corrected value"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["max_length"] = (
            f"The reason must be {self.REASON_LENGTH} characters or fewer."
        )
        if not self.instance.measure_id:  # only a figure held is corrected; this is the form's blank state
            self.fields["value"].help_text = "The right figure for the month, in the measure's unit."
            return
        measure = self.instance.measure
        unit = (
            "a percentage between 0 and 100"
            if measure.unit == Measure.Unit.PERCENT
            else f"in {measure.get_unit_display().lower()}"
        )
        self.fields[
            "value"
        ].help_text = f"{measure.name} for {self.instance.region or 'England'} in {self.instance.month:%B %Y}, {unit}."

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Enter the reason for the correction.")
        return reason

    def clean_value(self):
        value = self.cleaned_data["value"]
        held = Measurement.objects.filter(pk=self.instance.pk).values_list("value", flat=True).first()
        if value is not None and held is not None and value == held:
            raise forms.ValidationError(f"Enter a value different from the one held ({held.normalize():f}).")
        return value

    def save(self, commit=True):
        self.instance.source = Measurement.Source.ENTERED
        self.instance._change_reason = self.cleaned_data["reason"]
        return super().save(commit)


class MeasurementImportForm(Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"A header row “{','.join(COLUMNS)}”, then one line per month, for example "
        "“ae-4hr,Y56,2019-04,87.2”. Leave the region empty for England.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > self.MAX_BYTES:
            raise forms.ValidationError("The file must be smaller than 5 MB: split it into several files.")
        if not uploaded.name.lower().endswith(".csv"):
            raise forms.ValidationError("The file must be a CSV file (its name ending in .csv).")
        return uploaded
