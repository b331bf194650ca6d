from django.db.models import Prefetch

from measures.views import measure_sections, programme_measure_sections
from nhs_joint.api import Api
from nhs_joint.dates import format_date
from nhs_joint.generic import DetailConfig, FormConfig, ListConfig, Resource
from nhs_joint.tables import Column, link_to, section
from programmes.views import programme_sections

from . import api, filters, forms
from .models import Expectation

# The organisations and local health systems that agreed a programme's measure in a consultation, and when, on
# its page (measures/views.py): recorded when an expectation on it is agreed (services.agree).
programme_measure_sections.add(
    10,
    lambda pm, request: section(
        "agreed-with",
        "Agreed with",
        [
            Column("organisation", getter=lambda a: a.organisation or a.local_system),
            Column("agreed_on", "Agreed", getter=lambda a: format_date(a.agreed_on)),
        ],
        list(pm.agreements.select_related("organisation", "local_system")),
        empty="No organisation or local health system has agreed it in a consultation yet.",
    ),
)

# A programme's expectations, on its page (programmes/views.py).
programme_sections.add(
    40,
    lambda programme, request: section(
        "expectations",
        "Expectations",
        [
            Column("measure", link=True),
            Column("audience"),
            Column("region", getter=lambda e: e.region or "England"),
            Column("target", getter=lambda e: e.measure.target_words(e.comparator, e.target)),
            Column("due_date", "Due"),
            Column("issued_by.code", "Issued by"),
        ],
        list(programme.expectations.all()),
    ),
    Prefetch("expectations", Expectation.objects.select_related("measure", "region", "issued_by")),
)

# The expectations on a measure, on its page (measures/views.py).
measure_sections.add(
    20,
    lambda measure, request: section(
        "expectations",
        "Expectations on it",
        [
            Column("programme", link=link_to("programme")),
            Column("audience"),
            Column("region", getter=lambda e: e.region or "England"),
            Column("target", getter=lambda e: measure.target_words(e.comparator, e.target)),
            # The link says which expectation it opens, not a bare date ("31 Mar 2028").
            Column("due_date", "Due", getter=lambda e: f"Due {format_date(e.due_date)}: {e.programme}", link=True),
        ],
        list(measure.expectations.all()),
    ),
    Prefetch("expectations", Expectation.objects.select_related("programme", "region")),
)


expectation_columns = [
    Column("programme", order="programme", link=link_to("programme")),
    Column("measure.name", "Measure", order="measure", link=True, export=lambda row: row.measure.code),
    Column("audience", order="audience"),
    Column("region", getter=lambda e: e.region or "England"),
    Column("target", getter=lambda e: e.measure.target_words(e.comparator, e.target), order="target", numeric=True),
    Column("start_date", "Start", order="start_date"),
    Column("due_date", "Due", order="due_date"),
    Column("issued_by.code", "Issued by"),
]

expectations = Resource(
    model=Expectation,
    name="expectation",
    prefix="expectations",
    list=ListConfig(
        queryset=lambda: Expectation.objects.select_related("programme", "measure", "region", "issued_by"),
        filterset=filters.ExpectationFilterSet,
        columns=expectation_columns,
        intro="What the programmes ask of providers, commissioners and local health systems.",
    ),
    detail=DetailConfig(
        summary=lambda e: [
            ("Programme", {"text": str(e.programme), "href": e.programme.get_absolute_url()}),
            ("Issued by", e.issued_by.name),
            ("Audience", e.get_audience_display()),
            ("Area", str(e.region) if e.region else "England"),
            ("Measure", {"text": e.measure.name, "href": e.measure.get_absolute_url()}),
            ("Asks for", e.measure.target_words(e.comparator, e.target)),
            ("From", format_date(e.start_date)),
            ("Due", format_date(e.due_date)),
            ("Wording", e.wording),
        ],
    ),
    form=FormConfig(
        form_class=forms.ExpectationForm,
    ),
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


RESOURCES = [expectations]
