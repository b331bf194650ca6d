"""“Similar work elsewhere”: a workstream's or programme's closest records in other programmes, with scores.

The duplication report keeps each record's closest records with its run (SimilarRecord, written by the
duplicate-work rule); a page or an API request reads them in two queries (the rows of the latest
successful run, then the records they name) and never builds the index. A record written since that run
is compared when the report next runs (every night, or when someone asks).
"""

from django.db.models import Subquery
from django.template.loader import render_to_string
from drf_spectacular.utils import extend_schema
from markupsafe import Markup
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from nhs_joint.prefetch import cached_query
from nhs_joint.registry import registry

from .duplication import likely_threshold, possible_threshold
from .models import ReportRun, SimilarRecord

TYPES = ("workstream", "programme")


def latest_run():
    """The latest successful duplication run, as a subquery (no query of its own)."""
    runs = ReportRun.objects.filter(kind=ReportRun.Kind.DUPLICATION, status=ReportRun.Status.SUCCEEDED)
    return Subquery(runs.order_by("-finished", "-pk").values("pk")[:1])


def band_of(probability):
    if probability >= likely_threshold():
        return "likely the same work"
    if probability >= possible_threshold():
        return "possibly the same work"
    return "probably different work"


def closest(record_type, record_id):
    """The rows of a record's closest records kept by the latest duplication run, closest first."""
    return SimilarRecord.objects.filter(record_type=record_type, record_id=record_id, run=latest_run()).order_by("rank")


def similar_to(record_type, record_id, rows=None):
    """[{"record", "programme", "cosine", "probability", "band"}] of a record's closest records elsewhere,
    closest first, in two queries (one when its ``closest`` rows are given)."""
    rows = list(closest(record_type, record_id)) if rows is None else rows
    if not rows:
        return []
    others = registry.resource_for(record_type).model.objects.filter(pk__in=[row.other_id for row in rows])
    if record_type == "workstream":
        others = others.select_related("programme")
    found = others.in_bulk()
    return [
        {
            "record": found[row.other_id],
            "programme": getattr(found[row.other_id], "programme", None),
            "cosine": float(row.cosine),
            "probability": float(row.probability),
            "band": band_of(float(row.probability)),
        }
        for row in rows
        if row.other_id in found
    ]


def record_type_of(record):
    name = record._meta.model_name
    return name if name in TYPES else None


def similar_reads(request, record):
    """What the panel reads first, for the record's page to read with its sections."""
    record_type = record_type_of(record)
    if record_type is None or getattr(request.user, "is_partner", False):
        return []
    return [cached_query(closest, record_type=record_type, record_id=record.pk)]


def similar_panel(request, record, resource, rows=None):
    """On a workstream's or programme's page: its closest records in other programmes."""
    record_type = record_type_of(record)
    if record_type is None or getattr(request.user, "is_partner", False):
        return ""
    similar = similar_to(record_type, record.pk, rows=rows[0] if rows is not None else None)
    return Markup(
        render_to_string(
            "reports/similar_panel.jinja",
            {"record": record, "record_type": record_type, "similar": similar},
            request=request,
        )
    )


class SimilarSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="workstream or programme")
    id = serializers.IntegerField()
    label = serializers.CharField()
    programme = serializers.CharField(allow_null=True, help_text="A workstream's programme; null for a programme.")
    similarity = serializers.FloatField(help_text="0 to 1: the cosine of the two texts' terms.")
    probability = serializers.FloatField(help_text="0 to 1: the report's estimate that they are the same work.")
    band = serializers.CharField()


class SimilarWorkSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    label = serializers.CharField()
    results = SimilarSerializer(many=True)


class SimilarWorkView(APIView):
    """GET: a workstream's or programme's closest records in other programmes, with their similarity (0 to 1,
    the cosine of their terms) and the probability that they are the same work, as the latest duplication
    report found them."""

    record_type = "workstream"
    lookup = "pk"
    lookup_url_kwarg = "id"  # named as the record's own address names it (/workstreams/{id}/, /programmes/{slug}/)

    @extend_schema(responses=SimilarWorkSerializer, summary="Similar work elsewhere")
    def get(self, request, **kwargs):
        key = kwargs[self.lookup_url_kwarg]
        resource = registry.resource_for(self.record_type)
        record = resource.model.objects.filter(**{self.lookup: key}).first()
        if record is None:
            raise NotFound(f"No {self.record_type} {key}.")
        results = [
            {
                "type": self.record_type,
                "id": item["record"].pk,
                "label": str(item["record"]),
                "programme": str(item["programme"]) if item["programme"] else None,
                "similarity": item["cosine"],
                "probability": item["probability"],
                "band": item["band"],
            }
            for item in similar_to(self.record_type, record.pk)
        ]
        return Response({"type": self.record_type, "id": record.pk, "label": str(record), "results": results})


class SimilarProgrammesView(SimilarWorkView):
    record_type = "programme"
    lookup = "slug"
    lookup_url_kwarg = "slug"
