from django.db.models import F, Prefetch, Value
from django.db.models.functions import Coalesce, NullIf

from nhs_joint import permissions
from nhs_joint.api import Api
from nhs_joint.dates import format_date
from nhs_joint.generic import DetailConfig, FormConfig, ListConfig, PermissionConfig, Resource, model_form
from nhs_joint.tables import Column, Sections, choice_label, link_to, names, names_array, related, section

from . import api, filters, forms
from .models import AUDIENCE_LABELS, BoardApproval, Programme, ProgrammeRisk, RegionalDelivery, Workstream
from .themes import theme_name

# The labels of programmes' stored choices, for their list's rows read as values.
INTEGRATION_STAGE = choice_label(Programme, "integration_stage")
STATUS = choice_label(Programme, "status")

# A programme's page: its Board approvals, workstreams and regional delivery here; its expectations (asks/)
# and agreed measures (measures/) are added by those apps, which know programmes (programmes know neither).
programme_sections = Sections()
programme_sections.add(
    10,
    lambda programme, request: section(
        "board-approvals",
        "Board approvals",
        [
            Column("body.code", "Body"),
            Column("decision"),
            Column("date"),
            Column("minute_reference", "Minute"),
        ],
        list(programme.board_approvals.all()),
    ),
    Prefetch("board_approvals", BoardApproval.objects.select_related("body").order_by("date")),
)
programme_sections.add(
    20,
    lambda programme, request: section(
        "workstreams",
        "Workstreams",
        [
            Column("title", link=True),
            Column("body.code", "Owning body"),
            Column("audiences", getter=lambda w: ", ".join(w.get_audience_labels())),
            Column(
                "regions", getter=lambda w: ", ".join(r.short_name or r.name for r in related(w, "regions")) or "All"
            ),
            Column("start_date", "Start"),
            Column("end_date", "End"),
        ],
        list(programme.workstreams.all()),
    ),
    Prefetch("workstreams", Workstream.objects.select_related("body").prefetch_related("regions")),
)
programme_sections.add(
    30,
    lambda programme, request: section(
        "regional-delivery",
        "Regional delivery",
        [
            Column("region", "Region", link=link_to("region")),
            Column("rag", "RAG status"),
            Column("lead", "Lead"),
            Column("note"),
            # The link says what it opens ("London's delivery record"), not a bare "Updated" date.
            Column("updated", "Updated"),
            Column("record", "Delivery record", getter=lambda d: f"{d.region}'s delivery record", link=True),
        ],
        list(programme.regional_deliveries.all()),
    ),
    Prefetch("regional_deliveries", RegionalDelivery.objects.select_related("region", "lead")),
)


def programme_summary(p):
    """A programme's rows. A field left empty is left out (a summary, a theme, a description not written) or
    said in words where it applies to every programme (no statutory duty, no senior responsible owner named)."""
    sro = p.senior_responsible_owner
    return [
        ("Summary", p.summary),
        ("Theme", p.theme_name),
        ("Bodies", " and ".join(b.name for b in p.bodies.all())),
        ("Integration stage", p.get_integration_stage_display()),
        ("Accountable body", p.accountable_body.name if p.accountable_body else "Not yet named"),
        ("Statutory duty", f"{p.duty.title} ({p.duty.legal_basis})" if p.duty else "No statutory duty"),
        ("Status", p.get_status_display()),
        (
            "Dates",
            f"{format_date(p.start_date)} to {format_date(p.end_date)}"
            if p.end_date
            else f"From {format_date(p.start_date)}",
        ),
        (
            "Senior responsible owner",
            {"text": f"{sro.person.name}, {sro.title}", "href": sro.get_absolute_url()} if sro else "None named",
        ),
        ("Description", p.description),
    ]


programmes = Resource(
    model=Programme,
    name="programme",
    prefix="programmes",
    lookup="slug",
    lookup_converter="slug",
    list=ListConfig(
        queryset=lambda: Programme.objects.select_related("accountable_body").prefetch_related("bodies"),
        filterset=filters.ProgrammeFilterSet,
        columns=[
            Column("title", order="title", link=True, value=lambda r: r["title"]),
            Column(
                "theme",
                getter=lambda p: p.theme_name,
                order="theme",
                export=lambda p: p.theme,
                value=lambda r: theme_name(r["theme"]),
            ),
            Column("bodies", getter=lambda p: names(p, "bodies"), value=lambda r: ", ".join(r["body_codes"])),
            Column(
                "integration_stage",
                "Integration",
                order="integration_stage",
                value=lambda r: INTEGRATION_STAGE(r["integration_stage"]),
            ),
            Column("accountable_body.code", "Accountable", value=lambda r: r["accountable_code"]),
            Column("status", order="status", value=lambda r: STATUS(r["status"])),
            Column("start_date", "Start", order="start_date", value=lambda r: r["start_date"]),
            Column("end_date", "End", order="end_date", value=lambda r: r["end_date"]),
        ],
        # The page's rows as values, the bodies' codes read with them (no instances, no prefetch's query).
        values=lambda queryset: queryset.values(
            "pk",
            "slug",
            "title",
            "theme",
            "integration_stage",
            "status",
            "start_date",
            "end_date",
            accountable_code=F("accountable_body__code"),
            body_codes=names_array(Programme.bodies.through, "programme", "nationalbody__code", "nationalbody__code"),
        ),
        intro="The national programmes that NHS England and NHS Improvement run, alone or together.",
        cache_sql=True,
    ),
    detail=DetailConfig(
        queryset=lambda: Programme.objects.select_related(
            "accountable_body", "duty", "senior_responsible_owner__person"
        ).prefetch_related("bodies", *programme_sections.prefetches()),
        context=programme_sections,
        summary=programme_summary,
        cache_sql=True,
    ),
    form=FormConfig(
        form_class=forms.ProgrammeForm,
    ),
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
    list=ListConfig(
        queryset=lambda: Workstream.objects.select_related("programme", "body").prefetch_related("regions"),
        filterset=filters.WorkstreamFilterSet,
        columns=[
            Column("title", order="title", link=True, value=lambda r: r["title"]),
            Column(
                "programme",
                order="programme",
                link=link_to("programme"),
                value=lambda r: r["programme_title"],
                value_link=lambda r: programmes.detail_url(r["programme_slug"]),
            ),
            Column("body.code", "Owning body", order="body", value=lambda r: r["body_code"]),
            Column(
                "audiences",
                getter=lambda w: ", ".join(w.get_audience_labels()),
                value=lambda r: ", ".join(AUDIENCE_LABELS[a] for a in r["audiences"] if a in AUDIENCE_LABELS),
            ),
            Column(
                "regions",
                getter=lambda w: ", ".join(r.short_name or r.name for r in related(w, "regions")) or "All",
                value=lambda r: ", ".join(r["region_names"]) or "All",
            ),
            Column("start_date", "Start", order="start_date", value=lambda r: r["start_date"]),
            Column("end_date", "End", order="end_date", value=lambda r: r["end_date"]),
        ],
        # The page's rows as values, their programme's and body's with them and their regions' names (short, else
        # full) in the same query: no instances, no prefetch's query.
        values=lambda queryset: queryset.values(
            "pk",
            "title",
            "audiences",
            "start_date",
            "end_date",
            programme_title=F("programme__title"),
            programme_slug=F("programme__slug"),
            body_code=F("body__code"),
            region_names=names_array(
                Workstream.regions.through,
                "workstream",
                Coalesce(NullIf("region__short_name", Value("")), "region__name"),
                "region__name",
            ),
        ),
        cache_sql=True,
    ),
    detail=DetailConfig(
        summary=lambda w: [
            ("Programme", {"text": str(w.programme), "href": w.programme.get_absolute_url()}),
            ("Owning body", w.body.name),
            ("Audiences", ", ".join(w.get_audience_labels())),
            ("Regions", ", ".join(str(r) for r in w.regions.all()) or "Not regional"),
            ("Start date", format_date(w.start_date)),
            ("End date", format_date(w.end_date) if w.end_date else "No end date"),
            ("Description", w.description),
        ],
        cache_sql=True,
    ),
    form=FormConfig(
        form_class=forms.WorkstreamForm,
    ),
    api=Api(doc="The pieces of work of each programme.", extra_kwargs={"audiences": {"required": True}}),
)

board_approvals = Resource(
    model=BoardApproval,
    name="board-approval",
    prefix="board-approvals",
    list=ListConfig(
        queryset=lambda: BoardApproval.objects.select_related("programme", "body"),
        filterset=filters.BoardApprovalFilterSet,
        columns=[
            Column("programme", order="programme", link=link_to("programme")),
            Column("body.code", "Board"),
            Column("decision", link=True),
            Column("date", order="date"),
            Column("minute_reference", "Minute"),
        ],
    ),
    detail=DetailConfig(
        summary=lambda a: [
            ("Programme", {"text": str(a.programme), "href": a.programme.get_absolute_url()}),
            ("Board", a.body.name),
            ("Decision", a.get_decision_display()),
            ("Date", format_date(a.date)),
            ("Minute reference", a.minute_reference or "Not recorded"),
        ],
    ),
    form=FormConfig(
        form_class=forms.BoardApprovalForm,
    ),
    api=Api(doc="Decisions of each body's Board on programmes."),
)

regional_deliveries = Resource(
    model=RegionalDelivery,
    name="regional-delivery",
    prefix="regional-deliveries",
    list=ListConfig(
        queryset=lambda: RegionalDelivery.objects.select_related("programme", "region", "lead"),
        filterset=filters.RegionalDeliveryFilterSet,
        columns=[
            Column("programme", order="programme", link=True),
            Column("region", order="region", link=link_to("region")),
            Column("rag", "RAG status", order="rag"),
            Column("lead"),
            Column("updated", order="updated"),
        ],
    ),
    detail=DetailConfig(
        summary=lambda d: [
            ("Programme", {"text": str(d.programme), "href": d.programme.get_absolute_url()}),
            ("Region", {"text": str(d.region), "href": d.region.get_absolute_url()}),
            ("RAG status", d.get_rag_display()),
            ("Lead", str(d.lead) if d.lead else "None named"),
            ("Note", d.note),
            ("Last updated", d.updated),
        ],
    ),
    form=FormConfig(
        form_class=forms.RegionalDeliveryForm,
        creatable=False,
    ),
    permissions=PermissionConfig(
        create=permissions.can_record_delivery,
        deletable=False,
        kept_because="each region's director changes the record, and its history keeps every status it had.",
    ),
    api=Api(
        doc="How each programme is being delivered in each region: kept by the region's director.",
        serializer=api.RegionalDeliveryRules,
        fields=["id", "programme", "region", "rag", "lead", "note", "updated"],
        read_only=("updated",),
    ),
)

risks = Resource(
    model=ProgrammeRisk,
    name="programme-risk",
    prefix="programme-risks",
    list=ListConfig(
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
        intro="What could stop each programme succeeding, how likely and how bad it would be, and who owns it.",
    ),
    detail=DetailConfig(
        summary=lambda r: [
            ("Programme", {"text": str(r.programme), "href": r.programme.get_absolute_url()}),
            ("Likelihood", r.get_likelihood_display()),
            ("Impact", r.get_impact_display()),
            ("Score", f"{r.score} out of 25"),
            ("Owner", {"text": r.owner.name, "href": r.owner.get_absolute_url()}),
            ("Mitigation", r.mitigation or "None recorded"),
        ],
    ),
    form=FormConfig(
        form_class=model_form(
            ProgrammeRisk,
            fields=["programme", "title", "likelihood", "impact", "owner", "mitigation"],
            hints={
                "programme": "The programme this risk could stop from succeeding.",
                "title": "A short name for the risk, for example “Not enough theatre staff for the extra lists”.",
                "likelihood": "How likely it is to happen, from 1 (rare) to 5 (almost certain).",
                "impact": "How bad it would be if it happened, from 1 (negligible) to 5 (catastrophic).",
                "owner": "The person who watches this risk and acts on it.",
                "mitigation": "What is being done to make it less likely or less bad.",
            },
            base=forms.ProgrammeChildForm,
        ),
    ),
    api=Api(),
)

RESOURCES = [programmes, workstreams, board_approvals, regional_deliveries, risks]
