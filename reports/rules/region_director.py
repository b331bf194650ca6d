"""Each active region has exactly one current Regional Director, and that post is shared by both bodies.

The seven integrated regions are each led by one Regional Director working for
NHS England and NHS Improvement together: a region with no director, with two,
or with a director employed by one body only is reported.
"""

from collections import defaultdict

from appointments.models import Appointment
from regions.models import Region

from . import FindingData, current, ref, rule


@rule("region-director", kind="consistency", severity="high", name="Regional Director")
def check(context):
    regions = list(Region.objects.active().order_by("ods_code"))
    directors = defaultdict(list)
    for appointment in (
        Appointment.objects.filter(
            current(on=context.today), role=Appointment.Role.REGIONAL_DIRECTOR, region__in=regions
        )
        .select_related("person")
        .prefetch_related("shares__body")
    ):
        directors[appointment.region_id].append(appointment)
    for region in regions:
        posts = directors.get(region.pk, [])
        if len(posts) != 1:
            yield FindingData(
                f"{region} has {len(posts) or 'no'} current Regional Director{'s' if len(posts) != 1 else ''}: "
                "each region is led by exactly one, working for both bodies.",
                [ref(region)] + [ref(p, "appointment") for p in posts],
                region_id=region.pk,
            )
            continue
        post = posts[0]
        bodies = {share.body.code for share in post.shares.all() if share.fte_percent > 0}
        if bodies != {"NHSE", "NHSI"}:
            held = " and ".join(sorted(bodies)) or "no body"
            yield FindingData(
                f"{region}'s Regional Director, {post.person.name}, is employed by {held} only: "
                "the post should be shared by NHS England and NHS Improvement.",
                [ref(region), ref(post, "appointment")],
                region_id=region.pk,
            )
