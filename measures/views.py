from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from nhs_joint import history, permissions, words
from nhs_joint.api import Api
from nhs_joint.dates import format_date, format_month
from nhs_joint.failures import service_unavailable
from nhs_joint.generic import DetailConfig, FormConfig, ListConfig, PermissionConfig, Resource
from nhs_joint.tables import Column, Sections, link_to, names, section
from programmes.views import programme_sections

from . import api, filters, forms, services
from .models import Measure, Measurement, ProgrammeMeasure

# A programme's agreed measures, on its page (programmes/views.py).
programme_sections.add(
    50,
    lambda programme, request: section(
        "measures",
        "Agreed measures",
        [
            Column("measure", link=link_to("measure")),
            Column("target", getter=lambda pm: pm.measure.target_words(pm.measure.comparator, pm.target)),
            Column("agreed_on", "Agreed"),
            Column("agreed_by", getter=lambda pm: names(pm.agreed_by)),
        ],
        list(programme.programme_measures.all()),
    ),
    Prefetch("programme_measures", ProgrammeMeasure.objects.select_related("measure").prefetch_related("agreed_by")),
)


def latest_measurements(measure, request):
    latest = (
        Measurement.objects.filter(measure=measure).select_related("region").order_by("-month", "region__name")[:16]
    )
    return section(
        "latest",
        "Latest measurements",
        [
            # The link says which figure it opens ("London, November 2026"), not a bare month.
            Column("month", "Figure", getter=lambda m: f"{m.region or 'England'}, {format_month(m.month)}", link=True),
            Column("value", getter=lambda m: measure.figure(m.value), numeric=True),
            Column("source"),
            *(
                [
                    Column(
                        "correct",
                        "Correct a figure",
                        getter=lambda m: f"Correct {m.region or 'England'}, {format_date(m.month, 'M Y')}",
                        link=lambda m: reverse("measurement-edit", args=[m.pk]),
                    )
                ]
                if permissions.can_edit_records(request.user)
                else []
            ),
        ],
        list(latest),
        empty="No measurements yet.",
    )


# A measure's page: the programmes measured by it and its latest figures; the expectations on it are added by
# asks/ (asks know measures; measures know nothing of asks).
measure_sections = Sections()
measure_sections.add(
    10,
    lambda measure, request: section(
        "agreed",
        "Programmes measured by it",
        [
            Column("programme", link=link_to("programme")),
            Column("target", getter=lambda pm: measure.target_words(measure.comparator, pm.target)),
            Column("agreed_on", "Agreed"),
        ],
        list(measure.programme_measures.all()),
    ),
    Prefetch("programme_measures", ProgrammeMeasure.objects.select_related("programme")),
)
measure_sections.add(30, latest_measurements)


# A programme's measure's page: the organisations that agreed it are added by asks/ (their agreements are
# recorded when an expectation on it is agreed).
programme_measure_sections = Sections()


def measure_detail(measure, request):
    actions = []
    if permissions.can_edit_records(request.user):
        actions = [
            {"text": "Enter a measurement", "href": reverse("measurement-entry", args=[measure.code])},
            {"text": "Import measurements", "href": reverse("measurement-import")},
        ]
    return {"detail_actions": actions, **measure_sections(measure, request)}


measures = Resource(
    model=Measure,
    name="measure",
    prefix="measures",
    lookup="code",
    lookup_converter="slug",
    list=ListConfig(
        queryset=lambda: Measure.objects.all(),
        filterset=filters.MeasureFilterSet,
        columns=[
            Column("name", order="name", link=True),
            Column("code", order="code"),
            Column("unit", order="unit"),
            Column("direction"),
            Column("standard", getter=lambda m: m.standard_words if m.standard is not None else ""),
        ],
        intro="How success is measured, agreed with the organisations affected. Measurements labelled "
        "“generated” are demonstration data.",
    ),
    detail=DetailConfig(
        queryset=lambda: Measure.objects.prefetch_related(*measure_sections.prefetches()),
        context=measure_detail,
        summary=lambda m: [
            ("Code", m.code),
            ("Unit", m.get_unit_display()),
            ("Direction", m.get_direction_display()),
            ("National standard", m.standard_words),
            ("Figures written", f"to {words.count(m.decimal_places, 'decimal place')}, for example {m.figure(87.5)}"),
        ],
    ),
    form=FormConfig(
        form_class=forms.MeasureForm,
    ),
    # Its views are declared below: the URLs are made when the portal's are.
    extra_urls=lambda resource: [
        path("measures/<slug:key>/measurements/new/", MeasurementEntryPage.as_view(), name="measurement-entry"),
        path("measures/<slug:key>/correct/", correct_figure, name="measurement-correct"),
    ],
    api=Api(doc="Measures of success, by code.", mixins=(api.MeasureChart,)),
)

programme_measures = Resource(
    model=ProgrammeMeasure,
    name="programme-measure",
    prefix="programme-measures",
    list=ListConfig(
        queryset=lambda: ProgrammeMeasure.objects.select_related("programme", "measure").prefetch_related("agreed_by"),
        filterset=filters.ProgrammeMeasureFilterSet,
        columns=[
            Column("programme", order="programme", link=link_to("programme")),
            Column("measure", order="measure", link=True),
            Column("target", getter=lambda pm: pm.measure.target_words(pm.measure.comparator, pm.target), numeric=True),
            Column("agreed_on", "Agreed", order="agreed_on"),
            Column("agreed_by", getter=lambda pm: names(pm.agreed_by)),
        ],
    ),
    detail=DetailConfig(
        # The organisations and local systems that agreed it in a consultation, and when: added by asks/.
        context=programme_measure_sections,
        summary=lambda pm: [
            ("Programme", {"text": str(pm.programme), "href": pm.programme.get_absolute_url()}),
            ("Measure", {"text": pm.measure.name, "href": pm.measure.get_absolute_url()}),
            ("Target", pm.measure.target_words(pm.measure.comparator, pm.target)),
            ("Agreed on", format_date(pm.agreed_on)),
            ("Agreed by", " and ".join(b.name for b in pm.agreed_by.all()) or "No body recorded"),
        ],
    ),
    form=FormConfig(
        form_class=forms.ProgrammeMeasureForm,
    ),
    api=Api(doc="How the success of each programme is measured, as agreed by the bodies."),
)

CHANGES_SHOWN = 20


def measurement_changes(measurement):
    """The latest changes to a figure, each with who made it, the values and the reason given."""
    records = history.history_queryset(measurement)[:CHANGES_SHOWN]
    rows = []
    for entry in history.history_entries(measurement, records):
        values = [c for c in entry["changes"] if c["field"] == "value"]
        if entry["kind"] == "created":
            change = "Recorded"
        elif values:
            change = f"{values[0]['old']} to {values[0]['new']}"
        else:
            change = entry["kind_label"]
        rows.append({"when": entry["when"], "who": entry["who"], "change": change, "reason": entry["reason"]})
    return section(
        "changes",
        "Changes to this figure",
        [
            Column("when", getter=lambda r: history.format_datetime(r["when"])),
            Column("who", "By", getter=lambda r: r["who"]),
            Column("change", "Value", getter=lambda r: r["change"]),
            # A figure recorded needs no reason; a change made without one says so.
            Column(
                "reason", getter=lambda r: r["reason"] or ("" if r["change"] == "Recorded" else "No reason recorded")
            ),
        ],
        rows,
        empty="No changes recorded.",
    )


def area_summary(m):
    if m.organisation_id:
        return ("Organisation", {"text": str(m.organisation), "href": m.organisation.get_absolute_url()})
    if m.local_system_id:
        return ("Local health system", {"text": str(m.local_system), "href": m.local_system.get_absolute_url()})
    return ("Region", str(m.region) if m.region else "England")


measurements = Resource(
    model=Measurement,
    name="measurement",
    prefix="measurements",
    list=ListConfig(
        # Every level: the filters give regions' and England's figures unless an organisation or a system is asked for.
        queryset=lambda: Measurement.every_level.select_related("measure", "region", "organisation", "local_system"),
        filterset=filters.MeasurementFilterSet,
        columns=[
            Column("measure.name", "Measure", order="measure", link=True, export=lambda row: row.measure.code),
            Column("region", getter=lambda m: m.area or "England", order="region"),
            Column(
                "month", getter=lambda m: format_month(m.month), order="month", export=lambda m: m.month.isoformat()
            ),
            Column("value", getter=lambda m: m.measure.figure(m.value), numeric=True, order="value"),
            Column("source"),
        ],
        actions=lambda user: (
            [{"text": "Import measurements", "href": reverse("measurement-import")}]
            if permissions.can_edit_records(user)
            else []
        ),
    ),
    detail=DetailConfig(
        context=lambda m, request: {"sections": [measurement_changes(m)]},
        summary=lambda m: [
            ("Measure", {"text": m.measure.name, "href": m.measure.get_absolute_url()}),
            area_summary(m),
            ("Month", format_month(m.month)),
            ("Value", m.measure.figure(m.value)),
            *(
                [("Made of", f"{m.numerator:,} of {m.denominator:,}")]
                if m.numerator is not None and m.denominator is not None
                else []
            ),
            ("Source", m.get_source_display()),
        ],
    ),
    form=FormConfig(
        form_class=forms.MeasurementCorrectionForm,
        creatable=False,  # figures are entered on their measure's page or imported
    ),
    permissions=PermissionConfig(
        deletable=False,  # a wrong figure is corrected, with a reason kept in its history
        kept_because="a wrong figure is corrected, with the reason for the correction (PATCH with a reason).",
    ),
    extra_urls=lambda resource: [
        path("measurements/import/", MeasurementImportPage.as_view(), name="measurement-import"),
        path("measurements/import/template.csv", measurement_import_template, name="measurement-import-template"),
    ],
    api=Api(
        doc="Monthly values of each measure, by region or for England (``?region=ENG``); an organisation's or a "
        "local health system's own with ``?organisation=<ODS code>`` or ``?local_system=<ODS code>``. A rate from "
        "published statistics gives its numerator and denominator, of which the value is made.",
        serializer=api.MeasurementRules,
        queryset=lambda: Measurement.every_level.select_related("measure", "region", "organisation", "local_system"),
        fields=[
            "id",
            "measure",
            "region",
            "organisation",
            "local_system",
            "month",
            "value",
            "numerator",
            "denominator",
            "source",
            "reason",
        ],
        extra_kwargs={
            "region": {"help_text": "Null for England, and for an organisation's or a local health system's figure."}
        },
    ),
)


class MeasurementEntryPage(View):
    """Enter one month's value of a measure, for a region or England."""

    http_method_names = ["get", "post", "head"]

    def setup_page(self, request, key):
        permissions.can_edit_records(request.user).enforce()
        self.measure = measures.get_object(key)

    def get(self, request, key):
        self.setup_page(request, key)
        return self.render(forms.MeasurementEntryForm(measure=self.measure, user=request.user))

    def post(self, request, key):
        self.setup_page(request, key)
        form = forms.MeasurementEntryForm(request.POST, measure=self.measure, user=request.user)
        if not form.is_valid():
            return self.render(form, status=400)
        with transaction.atomic():
            saved = form.save()
        messages.success(
            request, f"Measurement saved: {saved.region or 'England'}, {format_month(saved.month)}, {saved.value:f}."
        )
        return HttpResponseRedirect(self.measure.get_absolute_url())

    def render(self, form, status=200):
        measure = self.measure
        return render(
            self.request,
            "measures/measurement_form.jinja",
            {
                "form": form,
                "caption": measure.name,
                "page_title": "Enter a measurement",
                "breadcrumbs": measures.breadcrumbs(measure),
                "submit": "Save measurement",
                "cancel_url": measure.get_absolute_url(),
            },
            status=status,
        )


def statistics_result(request, name, result):
    """What an import of a published statistics file did: its figures, the providers the portal does not know
    (counted into England only) and the figures staff corrected, which it kept."""
    return render(
        request,
        "measures/statistics_result.jinja",
        {
            "page_title": f"“{name}” imported",
            "result": result,
            "breadcrumbs": [
                {"text": "Home", "href": "/"},
                {"text": "Measurements", "href": reverse("measurement-list")},
            ],
        },
    )


class MeasurementImportPage(View):
    """Import measurements from a CSV file: all of it, or nothing with a message per bad line."""

    http_method_names = ["get", "post", "head"]

    def get(self, request):
        permissions.can_edit_records(request.user).enforce()
        return self.render(forms.MeasurementImportForm())

    def post(self, request):
        permissions.can_edit_records(request.user).enforce()
        form = forms.MeasurementImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form, status=400)
        uploaded = form.cleaned_data["file"]
        if uploaded.size > settings.IMPORT_BYTES_IN_REQUEST:
            # A large file is imported by a worker; its page shows progress, then the outcome.
            try:
                job = services.start_import_job(uploaded, request.user)
            except services.jobs.JobCannotStart as refusal:
                return service_unavailable(request, str(refusal), title="The import cannot start now")
            return HttpResponseRedirect(job.get_absolute_url())
        try:
            result = services.import_measurements_file(form.cleaned_data["file"], user=request.user)
        except (services.MeasurementFileError, services.statistics.PublishedFileError) as exc:
            return self.render(form, errors=exc.errors, status=400)
        if isinstance(result, services.statistics.StatisticsResult):
            return statistics_result(request, form.cleaned_data["file"].name, result)
        messages.success(request, f"“{form.cleaned_data['file'].name}” imported: {result}")
        return HttpResponseRedirect(reverse("measurement-list"))

    def render(self, form, errors=(), status=200):
        shown = list(errors[: services.MAX_ERRORS_SHOWN])
        return render(
            self.request,
            "measures/measurement_form.jinja",
            {
                "form": form,
                "file_errors": shown,
                "more_errors": len(errors) - len(shown),
                "page_title": "Import measurements",
                "intro": "Every line is checked before anything is saved: a file with a bad line is refused whole. "
                "A measurement already held for the same measure, region and month takes the file's value.",
                "template_url": reverse("measurement-import-template"),
                "breadcrumbs": [
                    {"text": "Home", "href": "/"},
                    {"text": "Measurements", "href": reverse("measurement-list")},
                ],
                "submit": "Import",
                "multipart": True,
                "cancel_url": reverse("measurement-list"),
            },
            status=status,
        )


def correct_figure(request, key):
    """The correction page of a measure's figure for a region (``region``, empty for England) and ``month``."""
    permissions.can_edit_records(request.user).enforce()
    measure = measures.get_object(key)
    region_code = request.GET.get("region", "").strip().upper()[:10]
    try:
        month = services.parse_month(request.GET.get("month", "")[:10])
    except ValueError as exc:
        raise Http404(f"Month: {exc}.") from None
    held = Measurement.objects.filter(measure=measure, month=month)
    if region_code in services.ENGLAND:
        held = held.filter(region__isnull=True)
    else:
        held = held.filter(region__ods_code=region_code)
    pk = held.values_list("pk", flat=True).first()
    if pk is None:
        raise Http404(f"No figure of {measure.name} is held for {region_code or 'England'} in {format_month(month)}.")
    return HttpResponseRedirect(reverse("measurement-edit", args=[pk]))


def measurement_import_template(request):
    """A CSV file to fill in: the header row the importer reads and one example line it accepts."""
    permissions.can_edit_records(request.user).enforce()
    response = HttpResponse(services.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="measurements-template.csv"'
    return response


RESOURCES = [measures, programme_measures, measurements]
