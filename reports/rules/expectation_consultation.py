"""An expectation was agreed without a consultation, or while concerns raised in its consultation were unanswered.

Designing the ways of working with the organisations they affect: an
expectation agreed through the portal should have been out to consultation
with the providers, commissioners or local systems it applies to, and every
concern they raised should have had an answer before the bodies agreed it.
Expectations agreed before the portal kept consultations (no agreement date)
are not judged, nor those agreed without one with the reason recorded why none
was needed (asks/services.py asks for it).
"""

from django.db.models import Count, Q

from asks.models import Expectation, ExpectationResponse
from nhs_joint import words

from . import FindingData, ref, rule


@rule("expectation-consultation", kind="consistency", severity="medium", name="Agreed without consultation")
def check(context):
    unanswered = Q(responses__position=ExpectationResponse.Position.CONCERNS, responses__answer="")
    agreed = (
        Expectation.objects.filter(stage=Expectation.Stage.AGREED, agreed_on__isnull=False)
        .annotate(unanswered=Count("responses", filter=unanswered))
        .filter(Q(consultation_closes__isnull=True, no_consultation_reason="") | Q(unanswered__gt=0))
        .select_related("programme", "measure", "region")
        .order_by("pk")
    )
    for expectation in agreed:
        if expectation.consultation_closes is None:
            why = "without a consultation with the organisations it applies to"
        else:
            count = expectation.unanswered
            why = f"while {words.count(count, 'concern')} raised in its consultation had no answer"
        yield FindingData(
            f"{expectation.programme} agreed “{expectation.measure.name}” "
            f"{expectation.measure.target_words(expectation.comparator, expectation.target)} for "
            f"{expectation.get_audience_display().lower()} ({expectation.region or 'England'}) on "
            f"{expectation.agreed_on:%-d %B %Y} {why}.",
            [ref(expectation, "expectation"), ref(expectation.programme), ref(expectation.measure)],
            region_id=expectation.region_id,
        )
