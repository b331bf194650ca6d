from django import forms

from programmes.forms import ProgrammeChildForm

from .models import Expectation


class ExpectationForm(ProgrammeChildForm):
    hints = {
        "programme": "The programme that asks this.",
        "issued_by": "The body that asks it.",
        "audience": "Who is asked: providers, commissioners or local health systems.",
        "region": "Leave empty if it is asked of England as a whole.",
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
        self.fields["region"].empty_label = "England as a whole"

    def clean(self):
        cleaned = super().clean()
        programme, issued_by = cleaned.get("programme"), cleaned.get("issued_by")
        if programme and issued_by and not programme.bodies.filter(pk=issued_by.pk).exists():
            self.add_error("issued_by", f"{issued_by.code} does not run {programme}: choose one of its bodies.")
        return cleaned
