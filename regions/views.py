"""Local health systems (the region pages are the dashboards app's)."""

from nhs_joint.generic import DetailConfig, ListConfig, Resource
from nhs_joint.tables import Column, link_to, section

from . import filters
from .models import LocalHealthSystem


def local_system_detail(system, request):
    return {
        "sections": [
            section(
                "organisations",
                "Organisations",
                [Column("ods_code", "ODS code"), Column("name", link=True), Column("kind")],
                list(system.organisations.all()),
            )
        ]
    }


local_systems = Resource(
    model=LocalHealthSystem,
    name="local-system",
    prefix="local-systems",
    lookup="ods_code",
    lookup_converter="str",
    list=ListConfig(
        queryset=lambda: LocalHealthSystem.objects.select_related("region"),
        filterset=filters.LocalHealthSystemFilterSet,
        columns=[
            Column("ods_code", "ODS code", order="code", link=True),
            Column("name", order="name", link=True),
            Column("region", order="region", link=link_to("region")),
        ],
        intro="Sustainability and transformation partnerships (STPs): the local health systems of 2018–19.",
    ),
    detail=DetailConfig(
        # Organisations come in their own order (by name).
        queryset=lambda: LocalHealthSystem.objects.select_related("region").prefetch_related("organisations"),
        context=local_system_detail,
        summary=lambda s: [
            ("ODS code", s.ods_code),
            ("Region", {"text": str(s.region), "href": s.region.get_absolute_url()}),
        ],
    ),
    reads=("programmes.Programme", "measures.Measure"),  # what is asked of the system (its asks' link)
)

RESOURCES = [local_systems]
