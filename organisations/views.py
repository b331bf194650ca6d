from nhs_joint.dates import format_date
from nhs_joint.generic import DetailConfig, ListConfig, Resource
from nhs_joint.tables import Column, link_to

from . import filters
from .models import Organisation

organisations = Resource(
    model=Organisation,
    name="organisation",
    prefix="organisations",
    lookup="ods_code",
    lookup_converter="str",
    list=ListConfig(
        queryset=lambda: Organisation.objects.select_related("region", "local_system"),
        filterset=filters.OrganisationFilterSet,
        columns=[
            Column("ods_code", "ODS code", order="code", link=True),
            Column("name", order="name", link=True),
            Column("kind", order="kind"),
            Column("region", order="region", link=link_to("region")),
            Column("local_system", "Local health system", link=link_to("local_system")),
            Column("opened", order="opened"),
            Column("closed", order="closed"),
        ],
        intro="NHS trusts, foundation trusts and clinical commissioning groups, from NHS Digital's "
        "Organisation Data Service.",
    ),
    detail=DetailConfig(
        summary=lambda o: [
            ("ODS code", o.ods_code),
            ("Kind", o.get_kind_display()),
            ("Region", {"text": str(o.region), "href": o.region.get_absolute_url()} if o.region else None),
            (
                "Local health system",
                {"text": str(o.local_system), "href": o.local_system.get_absolute_url()} if o.local_system else None,
            ),
            ("Postcode", o.postcode),
            ("Opened", format_date(o.opened) if o.opened else None),
            ("Closed", format_date(o.closed) if o.closed else "Open"),
        ],
    ),
)

RESOURCES = [organisations]
