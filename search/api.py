"""``GET /api/v1/search/?q=&kind=``: the search page's results as JSON, paginated as every API list."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from nhs_joint.pagination import Pagination

from .documents import KIND_LABELS
from .results import BadSearch, read, url_of


class ResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KIND_LABELS), help_text="What the record is.")
    key = serializers.CharField(help_text="Its natural key (a slug, an ODS code, a measure's code) or its id.")
    title = serializers.CharField()
    url = serializers.CharField(help_text="Its page in the portal.")
    context = serializers.CharField(help_text="What it belongs to and points at: programme, region, body.")
    score = serializers.FloatField(help_text="Higher is better: an exact title or code scores 10 or more.")


class SearchView(APIView):
    """Every kind of record at once, best first: by its words, what it belongs to, NHS abbreviations either
    way, British or American spelling, stems, hyphens and near spellings. A partner finds only their own
    organisation's consulted and agreed asks."""

    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="What to search for (200 characters at most)."),
            OpenApiParameter("kind", str, enum=list(KIND_LABELS), description="Only records of this kind."),
            OpenApiParameter("archived", str, enum=["true", "false"], description="Archived records too."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: ResultSerializer(many=True)},
    )
    def get(self, request):
        if "q" not in request.query_params:
            raise serializers.ValidationError({"q": ["Give q: the words to search for."]})
        try:
            query = read(request.query_params, request.user)
        except BadSearch as problem:
            raise serializers.ValidationError({problem.field: [str(problem)]}) from None
        paginator = self.pagination_class()
        documents = paginator.paginate_queryset(query.results(), request, view=self)
        data = [
            {
                "kind": d.kind,
                "key": d.key,
                "title": d.title,
                "url": url_of(d, request.user),
                "context": d.belongs_to,
                "score": round(d.score, 4),
            }
            for d in documents
        ]
        return paginator.get_paginated_response(ResultSerializer(data, many=True).data)
