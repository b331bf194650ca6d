from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from nhs_joint import history, permissions
from nhs_joint.api import Api
from nhs_joint.failures import service_unavailable
from nhs_joint.generic import Resource
from nhs_joint.tables import Column, link_to, names, section

from . import api, filters, forms, services
from .models import (
    BoardApproval,
    Expectation,
    Measure,
    Measurement,
    Programme,
    ProgrammeMeasure,
    ProgrammeRisk,
    RegionalDelivery,
    Workstream,
)


def programme_detail(programme, request):
    approvals = [
        Column("body.code", "Body"),
        Column("decision"),
        Column("date"),
        Column("minute_reference", "Minute"),
    ]
    deliveries = [
        Column("region", "Region", link=link_to("region")),
        Column("rag", "RAG status"),
        Column("lead", "Lead"),
        Column("note"),
        Column("updated", "Updated", link=True),
    ]
    workstreams = [
        Column("title", link=True),
        Column("body.code", "Owning body"),
        Column("audiences", getter=lambda w: ", ".join(w.get_audience_labels())),
        Column("regions", getter=lambda w: ", ".join(r.short_name or r.name for r in w.regions.all()) or "All"),
        Column("start_date", "Start"),
        Column("end_date", "End"),
    ]
    expectations = [
        Column("measure", link=True),
        Column("audience"),
        Column("region", getter=lambda e: e.region or "England"),
        Column("comparator"),
        Column("target"),
        Column("due_date", "Due"),
        Column("issued_by.code", "Issued by"),
    ]
    measures = [
        Column("measure", link=link_to("measure")),
        Column("target"),
        Column("agreed_on", "Agreed"),
        Column("agreed_by", getter=lambda pm: names(pm.agreed_by)),
    ]
    return {
        "sections": [
            section("board-approvals", "Board approvals", approvals, list(programme.board_approvals.all())),
            section("workstreams", "Workstreams", workstreams, list(programme.workstreams.all())),
            section("regional-delivery", "Regional delivery", deliveries, list(programme.regional_deliveries.all())),
            section("expectations", "Expectations", expectations, list(programme.expectations.all())),
            section("measures", "Agreed measures", measures, list(programme.programme_measures.all())),
        ]
    }


def programme_summary(p):
    sro = p.senior_responsible_owner
    return [
        ("Summary", p.summary),
        ("Theme", p.theme_name),
        ("Bodies", " and ".join(b.name for b in p.bodies.all())),
        ("Integration stage", p.get_integration_stage_display()),
        ("Accountable body", p.accountable_body.name if p.accountable_body else None),
        ("Statutory duty", f"{p.duty.title} ({p.duty.legal_basis})" if p.duty else None),
        ("Status", p.get_status_display()),
        (
            "Dates",
            f"{p.start_date:%-d %B %Y} to {p.end_date:%-d %B %Y}" if p.end_date else f"From {p.start_date:%-d %B %Y}",
        ),
        (
            "Senior responsible owner",
            {"text": f"{sro.person.name}, {sro.title}", "href": sro.get_absolute_url()} if sro else None,
        ),
        ("Description", p.description),
    ]


programmes = Resource(
    model=Programme,
    name="programme",
    prefix="programmes",
    lookup="slug",
    lookup_converter="slug",
    queryset=lambda: Programme.objects.select_related("accountable_body").prefetch_related("bodies"),
    detail_queryset=lambda: Programme.objects.select_related(
        "accountable_body", "duty", "senior_responsible_owner__person"
    ).prefetch_related(
        "bodies",
        Prefetch("board_approvals", BoardApproval.objects.select_related("body").order_by("date")),
        Prefetch("regional_deliveries", RegionalDelivery.objects.select_related("region", "lead")),
        Prefetch("workstreams", Workstream.objects.select_related("body").prefetch_related("regions")),
        Prefetch("expectations", Expectation.objects.select_related("measure", "region", "issued_by")),
        Prefetch(
            "programme_measures", ProgrammeMeasure.objects.select_related("measure").prefetch_related("agreed_by")
        ),
    ),
    filterset=filters.ProgrammeFilterSet,
    columns=[
        Column("title", order="title", link=True),
        Column("theme", getter=lambda p: p.theme_name, order="theme", export=lambda p: p.theme),
        Column("bodies", getter=lambda p: names(p.bodies)),
        Column("integration_stage", "Integration", order="integration_stage"),
        Column("accountable_body.code", "Accountable"),
        Column("status", order="status"),
        Column("start_date", "Start", order="start_date"),
        Column("end_date", "End", order="end_date"),
    ],
    form=forms.ProgrammeForm,
    summary=programme_summary,
    detail_context=programme_detail,
    intro="The national programmes that NHS England and NHS Improvement run, alone or together.",
    api=Api(
        doc="National programmes, by slug.",
        serializer=api.ProgrammeRules,
        read_only=("version",),
        extra_kwargs={
            "senior_responsible_owner": {"help_text": "The id of the appointment of the senior responsible owner."}
        },
    ),
)

workstreams = Resource(
    model=Workstream,
    name="workstream",
    prefix="workstreams",
    queryset=lambda: Workstream.objects.select_related("programme", "body").prefetch_related("regions"),
    filterset=filters.WorkstreamFilterSet,
    columns=[
        Column("title", order="title", link=True),
        Column("programme", order="programme", link=link_to("programme")),
        Column("body.code", "Owning body", order="body"),
        Column("audiences", getter=lambda w: ", ".join(w.get_audience_labels())),
        Column("regions", getter=lambda w: ", ".join(r.short_name or r.name for r in w.regions.all()) or "All"),
        Column("start_date", "Start", order="start_date"),
        Column("end_date", "End", order="end_date"),
    ],
    form=forms.WorkstreamForm,
    summary=lambda w: [
        ("Programme", {"text": str(w.programme), "href": w.programme.get_absolute_url()}),
        ("Owning body", w.body.name),
        ("Audiences", ", ".join(w.get_audience_labels())),
        ("Regions", ", ".join(str(r) for r in w.regions.all()) or "Not regional"),
        ("Start date", f"{w.start_date:%-d %B %Y}"),
        ("End date", f"{w.end_date:%-d %B %Y}" if w.end_date else None),
        ("Description", w.description),
    ],
    api=Api(doc="The pieces of work of each programme.", extra_kwargs={"audiences": {"required": True}}),
)

expectation_columns = [
    Column("programme", order="programme", link=link_to("programme")),
    Column("measure.name", "Measure", order="measure", link=True, export=lambda row: row.measure.code),
    Column("audience", order="audience"),
    Column("region", getter=lambda e: e.region or "England"),
    Column("comparator"),
    Column("target", order="target", numeric=True),
    Column("start_date", "Start", order="start_date"),
    Column("due_date", "Due", order="due_date"),
    Column("issued_by.code", "Issued by"),
]

expectations = Resource(
    model=Expectation,
    name="expectation",
    prefix="expectations",
    queryset=lambda: Expectation.objects.select_related("programme", "measure", "region", "issued_by"),
    filterset=filters.ExpectationFilterSet,
    columns=expectation_columns,
    form=forms.ExpectationForm,
    summary=lambda e: [
        ("Programme", {"text": str(e.programme), "href": e.programme.get_absolute_url()}),
        ("Issued by", e.issued_by.name),
        ("Audience", e.get_audience_display()),
        ("Area", str(e.region) if e.region else "All England"),
        ("Measure", {"text": e.measure.name, "href": e.measure.get_absolute_url()}),
        ("Asks for", f"{e.get_comparator_display()} {e.target:f}"),
        ("From", f"{e.start_date:%-d %B %Y}"),
        ("Due", f"{e.due_date:%-d %B %Y}"),
        ("Wording", e.wording),
    ],
    intro="What the programmes ask of providers, commissioners and local health systems.",
    api=Api(
        doc="What programmes ask of providers, commissioners and local systems.",
        serializer=api.ExpectationRules,
        # The stage changes only through the consultation's steps (the consultation pages; agree/ here too).
        read_only=(
            "stage",
            "consultation_closes",
            "agreed_on",
            "agreed_by",
            "no_consultation_reason",
            "responses_summary",
            "supersedes",
        ),
        mixins=(api.ExpectationSteps,),
        extra_kwargs={"region": {"help_text": "Null for all England."}},
    ),
)


def measure_detail(measure, request):
    actions = []
    if permissions.can_edit_records(request.user):
        actions = [
            {"text": "Enter a measurement", "href": reverse("measurement-entry", args=[measure.code])},
            {"text": "Import measurements", "href": reverse("measurement-import")},
        ]
    latest = (
        Measurement.objects.filter(measure=measure).select_related("region").order_by("-month", "region__name")[:16]
    )
    return {
        "detail_actions": actions,
        "sections": [
            section(
                "agreed",
                "Programmes measured by it",
                [Column("programme", link=link_to("programme")), Column("target"), Column("agreed_on", "Agreed")],
                list(measure.programme_measures.all()),
            ),
            section(
                "expectations",
                "Expectations on it",
                [
                    Column("programme", link=link_to("programme")),
                    Column("audience"),
                    Column("region", getter=lambda e: e.region or "England"),
                    Column("comparator"),
                    Column("target"),
                    Column("due_date", "Due", link=True),
                ],
                list(measure.expectations.all()),
            ),
            section(
                "latest",
                "Latest measurements",
                [
                    Column("month", getter=lambda m: f"{m.month:%B %Y}", link=True),
                    Column("region", getter=lambda m: m.region or "England"),
                    Column("value", numeric=True),
                    Column("source"),
                    *(
                        [
                            Column(
                                "correct",
                                "Correct a figure",
                                getter=lambda m: f"Correct {m.region or 'England'}, {m.month:%b %Y}",
                                link=lambda m: reverse("measurement-edit", args=[m.pk]),
                            )
                        ]
                        if permissions.can_edit_records(request.user)
                        else []
                    ),
                ],
                list(latest),
                empty="No measurements yet.",
            ),
        ],
    }


measures = Resource(
    model=Measure,
    name="measure",
    prefix="measures",
    lookup="code",
    lookup_converter="slug",
    queryset=lambda: Measure.objects.all(),
    detail_queryset=lambda: Measure.objects.prefetch_related(
        Prefetch("programme_measures", ProgrammeMeasure.objects.select_related("programme")),
        Prefetch("expectations", Expectation.objects.select_related("programme", "region")),
    ),
    filterset=filters.MeasureFilterSet,
    columns=[
        Column("name", order="name", link=True),
        Column("code", order="code"),
        Column("unit", order="unit"),
        Column("direction"),
        Column("standard", getter=lambda m: f"{m.comparator} {m.standard:f}" if m.standard is not None else ""),
    ],
    form=forms.MeasureForm,
    summary=lambda m: [
        ("Code", m.code),
        ("Unit", m.get_unit_display()),
        ("Direction", m.get_direction_display()),
        ("National standard", f"{m.get_comparator_display()} {m.standard:f}" if m.standard is not None else None),
    ],
    detail_context=measure_detail,
    api=Api(doc="Measures of success, by code.", mixins=(api.MeasureChart,)),
    intro="How success is measured, agreed with the organisations affected. Measurements labelled "
    "“generated” are demonstration data.",
)

board_approvals = Resource(
    model=BoardApproval,
    name="board-approval",
    prefix="board-approvals",
    queryset=lambda: BoardApproval.objects.select_related("programme", "body"),
    filterset=filters.BoardApprovalFilterSet,
    columns=[
        Column("programme", order="programme", link=link_to("programme")),
        Column("body.code", "Board"),
        Column("decision", link=True),
        Column("date", order="date"),
        Column("minute_reference", "Minute"),
    ],
    form=forms.BoardApprovalForm,
    summary=lambda a: [
        ("Programme", {"text": str(a.programme), "href": a.programme.get_absolute_url()}),
        ("Board", a.body.name),
        ("Decision", a.get_decision_display()),
        ("Date", f"{a.date:%-d %B %Y}"),
        ("Minute reference", a.minute_reference),
    ],
    api=Api(doc="Decisions of each body's Board on programmes."),
)

regional_deliveries = Resource(
    model=RegionalDelivery,
    name="regional-delivery",
    prefix="regional-deliveries",
    queryset=lambda: RegionalDelivery.objects.select_related("programme", "region", "lead"),
    filterset=filters.RegionalDeliveryFilterSet,
    columns=[
        Column("programme", order="programme", link=True),
        Column("region", order="region", link=link_to("region")),
        Column("rag", "RAG status", order="rag"),
        Column("lead"),
        Column("updated", order="updated"),
    ],
    form=forms.RegionalDeliveryForm,
    deletable=False,
    kept_because="each region's director changes the record, and its history keeps every status it had.",
    creatable=False,
    summary=lambda d: [
        ("Programme", {"text": str(d.programme), "href": d.programme.get_absolute_url()}),
        ("Region", {"text": str(d.region), "href": d.region.get_absolute_url()}),
        ("RAG status", d.get_rag_display()),
        ("Lead", str(d.lead) if d.lead else None),
        ("Note", d.note),
        ("Last updated", d.updated),
    ],
    create_permission=permissions.can_record_delivery,
    api=Api(
        doc="How each programme is being delivered in each region: kept by the region's director.",
        serializer=api.RegionalDeliveryRules,
        fields=["id", "programme", "region", "rag", "lead", "note", "updated"],
        read_only=("updated",),
    ),
)

programme_measures = Resource(
    model=ProgrammeMeasure,
    name="programme-measure",
    prefix="programme-measures",
    queryset=lambda: ProgrammeMeasure.objects.select_related("programme", "measure").prefetch_related("agreed_by"),
    filterset=filters.ProgrammeMeasureFilterSet,
    columns=[
        Column("programme", order="programme", link=link_to("programme")),
        Column("measure", order="measure", link=True),
        Column("target", numeric=True),
        Column("agreed_on", "Agreed", order="agreed_on"),
        Column("agreed_by", getter=lambda pm: names(pm.agreed_by)),
    ],
    form=forms.ProgrammeMeasureForm,
    summary=lambda pm: [
        ("Programme", {"text": str(pm.programme), "href": pm.programme.get_absolute_url()}),
        ("Measure", {"text": pm.measure.name, "href": pm.measure.get_absolute_url()}),
        ("Target", f"{pm.target:f}"),
        ("Agreed on", f"{pm.agreed_on:%-d %B %Y}"),
        ("Agreed by", " and ".join(b.name for b in pm.agreed_by.all())),
    ],
    api=Api(doc="How the success of each programme is measured, as agreed by the bodies."),
    # The organisations and local systems that agreed it in a consultation, and when (programmes/asks.py).
    detail_context=lambda pm, request: {
        "sections": [
            section(
                "agreed-with",
                "Agreed with",
                [
                    Column("organisation", getter=lambda a: a.organisation or a.local_system),
                    Column("agreed_on", "Agreed", getter=lambda a: f"{a.agreed_on:%-d %B %Y}"),
                ],
                list(pm.agreements.select_related("organisation", "local_system")),
                empty="No organisation or local health system has agreed it in a consultation yet.",
            )
        ]
    },
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
            Column("reason", getter=lambda r: r["reason"] or "Not given"),
        ],
        rows,
        empty="No changes recorded.",
    )


measurements = Resource(
    model=Measurement,
    name="measurement",
    prefix="measurements",
    queryset=lambda: Measurement.objects.select_related("measure", "region"),
    filterset=filters.MeasurementFilterSet,
    columns=[
        Column("measure.name", "Measure", order="measure", link=True, export=lambda row: row.measure.code),
        Column("region", getter=lambda m: m.region or "England", order="region"),
        Column("month", getter=lambda m: f"{m.month:%B %Y}", order="month", export=lambda m: m.month.isoformat()),
        Column("value", numeric=True, order="value"),
        Column("source"),
    ],
    form=forms.MeasurementCorrectionForm,
    creatable=False,  # figures are entered on their measure's page or imported
    deletable=False,  # a wrong figure is corrected, with a reason kept in its history
    kept_because="a wrong figure is corrected, with the reason for the correction (PATCH with a reason).",
    detail_context=lambda m, request: {"sections": [measurement_changes(m)]},
    summary=lambda m: [
        ("Measure", {"text": m.measure.name, "href": m.measure.get_absolute_url()}),
        ("Region", str(m.region) if m.region else "England"),
        ("Month", f"{m.month:%B %Y}"),
        ("Value", f"{m.value:f}"),
        ("Source", m.get_source_display()),
    ],
    api=Api(
        doc="Monthly values of each measure, by region or for England.",
        serializer=api.MeasurementRules,
        fields=["id", "measure", "region", "month", "value", "source", "reason"],
        extra_kwargs={"region": {"help_text": "Null for England."}},
    ),
)

risks = Resource(
    model=ProgrammeRisk,
    name="programme-risk",
    prefix="programme-risks",
    queryset=lambda: ProgrammeRisk.objects.select_related("programme", "owner"),
    filterset=filters.ProgrammeRiskFilterSet,
    columns=[
        Column("title", order="title", link=True),
        Column("programme", order="programme", link=link_to("programme")),
        Column("likelihood", order="likelihood"),
        Column("impact", order="impact"),
        Column("score", numeric=True),
        Column("owner"),
    ],
    fields=["programme", "title", "likelihood", "impact", "owner", "mitigation"],
    hints={
        "programme": "The programme this risk could stop from succeeding.",
        "title": "A short name for the risk, for example “Not enough theatre staff for the extra lists”.",
        "likelihood": "How likely it is to happen, from 1 (rare) to 5 (almost certain).",
        "impact": "How bad it would be if it happened, from 1 (negligible) to 5 (catastrophic).",
        "owner": "The person who watches this risk and acts on it.",
        "mitigation": "What is being done to make it less likely or less bad.",
    },
    form_base=forms.ProgrammeChildForm,
    summary=lambda r: [
        ("Programme", {"text": str(r.programme), "href": r.programme.get_absolute_url()}),
        ("Likelihood", r.get_likelihood_display()),
        ("Impact", r.get_impact_display()),
        ("Score", f"{r.score} out of 25"),
        ("Owner", {"text": r.owner.name, "href": r.owner.get_absolute_url()}),
        ("Mitigation", r.mitigation),
    ],
    intro="What could stop each programme succeeding, how likely and how bad it would be, and who owns it.",
    api=Api(),
)

RESOURCES = [
    programmes,
    workstreams,
    expectations,
    measures,
    board_approvals,
    regional_deliveries,
    programme_measures,
    measurements,
    risks,
]


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
            request, f"Measurement saved: {saved.region or 'England'}, {saved.month:%B %Y}, {saved.value:f}."
        )
        return HttpResponseRedirect(self.measure.get_absolute_url())

    def render(self, form, status=200):
        measure = self.measure
        return render(
            self.request,
            "programmes/measurement_form.jinja",
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
        except services.MeasurementFileError as exc:
            return self.render(form, errors=exc.errors, status=400)
        messages.success(request, f"“{form.cleaned_data['file'].name}” imported: {result}")
        return HttpResponseRedirect(reverse("measurement-list"))

    def render(self, form, errors=(), status=200):
        shown = list(errors[: services.MAX_ERRORS_SHOWN])
        return render(
            self.request,
            "programmes/measurement_form.jinja",
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
        raise Http404(f"No figure of {measure.name} is held for {region_code or 'England'} in {month:%B %Y}.")
    return HttpResponseRedirect(reverse("measurement-edit", args=[pk]))


measures.extra_urls = [
    path("measures/<slug:key>/measurements/new/", MeasurementEntryPage.as_view(), name="measurement-entry"),
    path("measures/<slug:key>/correct/", correct_figure, name="measurement-correct"),
]
measurements.list_actions = lambda user: (
    [{"text": "Import measurements", "href": reverse("measurement-import")}]
    if permissions.can_edit_records(user)
    else []
)


def measurement_import_template(request):
    """A CSV file to fill in: the header row the importer reads and one example line it accepts."""
    permissions.can_edit_records(request.user).enforce()
    response = HttpResponse(services.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="measurements-template.csv"'
    return response


measurements.extra_urls = [
    path("measurements/import/", MeasurementImportPage.as_view(), name="measurement-import"),
    path("measurements/import/template.csv", measurement_import_template, name="measurement-import-template"),
]
