"""An active programme has a regional delivery record in every active region.

National programmes are delivered through the seven integrated regions: a
region with no delivery record for an active programme is a gap in the picture
(one finding per programme and region).
"""

from programmes.models import Programme, RegionalDelivery
from regions.models import Region

from . import FindingData, ref, rule


@rule("regional-coverage", kind="consistency", severity="medium", name="Regional coverage")
def check(context):
    regions = list(Region.objects.active().order_by("ods_code"))
    programmes = list(Programme.objects.filter(status=Programme.Status.ACTIVE).order_by("slug"))
    held = set(
        RegionalDelivery.objects.filter(programme__in=programmes, region__in=regions).values_list(
            "programme_id", "region_id"
        )
    )
    for programme in programmes:
        for region in regions:
            if (programme.pk, region.pk) not in held:
                yield FindingData(
                    f"{programme} is active but has no delivery record for {region}.",
                    [ref(programme), ref(region)],
                    region_id=region.pk,
                )
