"""A programme names the body statutorily accountable for it, that body runs it, and its duty is that body's.

Both bodies keep their distinct statutory duties: nothing joint may cut across
them. A programme with no accountable body, an accountable body that does not
run it, or a duty that belongs to the other body is reported.
"""

from programmes.models import Programme

from . import FindingData, ref, rule


@rule("statutory-accountability", kind="consistency", severity="high", name="Statutory accountability")
def check(context):
    programmes = (
        Programme.objects.exclude(status=Programme.Status.CLOSED)
        .select_related("accountable_body", "duty__body")
        .prefetch_related("bodies")
    )
    for programme in programmes:
        bodies = {b.pk for b in programme.bodies.all()}
        problem = None
        if programme.accountable_body is None:
            problem = "names no accountable body"
        elif programme.accountable_body_id not in bodies:
            problem = f"is accountable to {programme.accountable_body}, which does not run it"
        elif programme.duty is not None and programme.duty.body_id != programme.accountable_body_id:
            problem = (
                f"is recorded under {programme.duty.body.code}'s duty “{programme.duty.title}”, but "
                f"{programme.accountable_body} is accountable for it"
            )
        if problem:
            yield FindingData(
                f"{programme} {problem}.",
                [ref(programme)],
            )
