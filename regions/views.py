"""Local health systems (the region pages are the dashboards app's)."""

from nhs_joint.generic import Resource
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
    queryset=lambda: LocalHealthSystem.objects.select_related("region"),
    # Organisations come in their own order (by name).
    detail_queryset=lambda: LocalHealthSystem.objects.select_related("region").prefetch_related("organisations"),
    filterset=filters.LocalHealthSystemFilterSet,
    columns=[
        Column("ods_code", "ODS code", order="code", link=True),
        Column("name", order="name", link=True),
        Column("region", order="region", link=link_to("region")),
    ],
    summary=lambda s: [
        ("ODS code", s.ods_code),
        ("Region", {"text": str(s.region), "href": s.region.get_absolute_url()}),
    ],
    detail_context=local_system_detail,
    reads=("programmes.Programme", "measures.Measure"),  # what is asked of the system (its asks' link)
    intro="Sustainability and transformation partnerships (STPs): the local health systems of 2018–19.",
)

RESOURCES = [local_systems]
