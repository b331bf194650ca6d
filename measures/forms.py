import datetime as dt

from django import forms

from nhs_joint.forms import Form, NHSMonthField, PortalModelForm
from programmes.forms import ProgrammeChildForm

from .models import Measure, Measurement, ProgrammeMeasure
from .services import COLUMNS


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
        "decimal_places": "How many decimals its figures are written with on pages, letters and packs: 1 for "
        "87.5%, 0 for 18 minutes. Targets are written without trailing zeros: at least 95%.",
    }

    class Meta:
        model = Measure
        fields = ["code", "name", "unit", "direction", "standard", "comparator", "decimal_places"]
        widgets = {"direction": forms.RadioSelect, "unit": forms.RadioSelect}


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
        ].help_text = f"{measure.name} for {self.instance.area or 'England'} in {self.instance.month:%B %Y}, {unit}."

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Enter the reason for the correction.")
        return reason

    def clean_value(self):
        value = self.cleaned_data["value"]
        held = Measurement.every_level.filter(pk=self.instance.pk).values_list("value", flat=True).first()
        if value is not None and held is not None and value == held:
            raise forms.ValidationError(f"Enter a value different from the one held ({held.normalize():f}).")
        return value

    def save(self, commit=True):
        self.instance.source = Measurement.Source.ENTERED
        # A person's value is no longer the published counts' quotient: the counts go with it.
        self.instance.numerator = self.instance.denominator = None
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
