"""Two expectations ask the same audience for the same measure, in overlapping areas and times, differently.

Speaking with one voice: providers, commissioners and local systems should
not be asked for two different targets (or comparators) on the same measure
for the same months in the same place. Area overlaps when both are for the
same region or either is for all England. Time overlaps when the two asks
share at least one day, whether those days are past, current or still to
come: two programmes that asked for 95% and 90% over 2018–19 spoke with two
voices then, and two planned asks for next year will as soon as they start.
The finding names the months the two asks share.
"""

from django.db.models import F, Q

from asks.models import Expectation
from nhs_joint.archive import live_q

from . import FindingData, in_pairs, months_of, overlap_of, ref, rule


@rule("expectation-conflict", kind="consistency", severity="high", name="Conflicting expectations")
def check(context):
    other = "measure__expectations__"
    # One filter() call: every condition on the other expectation must apply to the same joined row.
    pairs = (
        Expectation.objects.filter(
            Q(**{f"{other}audience": F("audience")})
            & Q(**{f"{other}pk__gt": F("pk")})
            & live_q(Expectation, other)  # the far side of the join: archived asks are asked of nobody
            # Withdrawn asks (a version replaced by a newer one) are asked of nobody either.
            & ~Q(stage=Expectation.Stage.WITHDRAWN)
            & ~Q(**{f"{other}stage": Expectation.Stage.WITHDRAWN})
            & Q(start_date__lte=F(f"{other}due_date"), due_date__gte=F(f"{other}start_date"))
            & (Q(region_id=F(f"{other}region_id")) | Q(region__isnull=True) | Q(**{f"{other}region__isnull": True}))
            & (~Q(target=F(f"{other}target")) | ~Q(comparator=F(f"{other}comparator")))
        )
        .values_list("pk", f"{other}pk")
        .distinct()
        .order_by("pk", f"{other}pk")
    )
    for a, b in in_pairs(pairs, Expectation.objects.select_related("programme", "measure", "region")):
        area = a.region or b.region
        when = months_of(*overlap_of(a, b))
        yield FindingData(
            f"{a.get_audience_display()} are asked for “{a.measure.name}” {a.measure.target_words(a.comparator, a.target)} "
            f"by {a.programme} ({a.region or 'England'}) and {b.measure.target_words(b.comparator, b.target)} by "
            f"{b.programme} ({b.region or 'England'}), both for {when}: two voices on one measure.",
            [ref(a, "expectation"), ref(b, "expectation"), ref(a.programme), ref(b.programme), ref(a.measure)],
            region_id=area.pk if area else None,
        )
