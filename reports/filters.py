"""Filters of report runs and findings, shared by the pages, the API and the CSV exports."""

import django_filters

from nhs_joint.filters import PortalFilterSet
from regions.filters import region_filter, region_scope_filter

from .models import Finding, ReportRun
from .rules import all_rules


def rule_choices():
    """Each rule by its name, its code beside it."""
    return [(code, f"{rule.name} ({code})") for code, rule in all_rules().items()]


class ReportRunFilterSet(PortalFilterSet):
    q = None  # runs have no text to search (an empty SearchVector is an SQL syntax error)
    kind = django_filters.MultipleChoiceFilter(choices=ReportRun.Kind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ReportRun.Status.choices)
    ordering = django_filters.OrderingFilter(fields=(("created", "created"), ("finished", "finished")))

    class Meta:
        model = ReportRun
        fields = ["kind", "status"]


class FindingFilterSet(PortalFilterSet):
    search_fields = ("message",)
    run = django_filters.NumberFilter(field_name="run_id", label="Report run")
    rule = django_filters.MultipleChoiceFilter(choices=rule_choices)
    severity = django_filters.MultipleChoiceFilter(choices=Finding.Severity.choices)
    region = region_filter(england=True)
    region_scope = region_scope_filter()
    suppressed = django_filters.BooleanFilter(label="Decided “not a problem”")
    ordering = django_filters.OrderingFilter(
        fields=(("rule", "rule"), ("severity_rank", "severity"), ("score", "score"), ("region__name", "region"))
    )

    class Meta:
        model = Finding
        fields = ["q", "run", "rule", "severity", "region", "region_scope", "suppressed"]
