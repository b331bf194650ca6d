"""Two programmes ask the same audience for the same measure, in the same area, with the same target, at overlapping times.

Removing unnecessary duplication: the same ask from two programmes means two
sets of returns and two conversations for the same providers, commissioners
or local systems. Two asks are compared when their dates share at least one
day, whether those days are past, current or still to come; the finding
names the months they share.
"""

from django.db.models import F, Q

from asks.models import Expectation
from nhs_joint.archive import live_q

from . import FindingData, in_pairs, months_of, overlap_of, ref, rule


@rule("duplicate-ask", kind="duplication", severity="medium", name="Duplicate ask")
def check(context):
    other = "measure__expectations__"
    # One filter() call: every condition on the other expectation must apply to the same joined row.
    pairs = (
        Expectation.objects.filter(
            Q(
                **{
                    f"{other}audience": F("audience"),
                    f"{other}comparator": F("comparator"),
                    f"{other}target": F("target"),
                }
            )
            & Q(**{f"{other}pk__gt": F("pk")})
            & live_q(Expectation, other)  # the far side of the join: archived asks are asked of nobody
            # Withdrawn asks (a version replaced by a newer one) are asked of nobody either.
            & ~Q(stage=Expectation.Stage.WITHDRAWN)
            & ~Q(**{f"{other}stage": Expectation.Stage.WITHDRAWN})
            & Q(start_date__lte=F(f"{other}due_date"), due_date__gte=F(f"{other}start_date"))
            & (Q(region_id=F(f"{other}region_id")) | Q(region__isnull=True, **{f"{other}region__isnull": True}))
            & ~Q(programme_id=F(f"{other}programme_id"))
        )
        .values_list("pk", f"{other}pk")
        .distinct()
        .order_by("pk", f"{other}pk")
    )
    for a, b in in_pairs(pairs, Expectation.objects.select_related("programme", "measure", "region")):
        when = months_of(*overlap_of(a, b))
        yield FindingData(
            f"{a.programme} and {b.programme} both ask {a.get_audience_display().lower()} for “{a.measure.name}” "
            f"{a.measure.target_words(a.comparator, a.target)} in {a.region or 'England'} for {when}: one ask would do.",
            [ref(a, "expectation"), ref(b, "expectation"), ref(a.programme), ref(b.programme), ref(a.measure)],
            region_id=a.region_id,
            score=1.0,
        )
