"""An approved or active programme has the approval of the Board of each body that runs it.

New joint arrangements are subject to both Boards' approval: a programme in
force without an "approved" decision from each of its bodies' Boards is reported.
"""

from collections import defaultdict

from programmes.models import BoardApproval, Programme

from . import FindingData, ref, rule


@rule("board-approval", kind="consistency", severity="high", name="Board approval")
def check(context):
    programmes = list(
        Programme.objects.filter(status__in=[Programme.Status.APPROVED, Programme.Status.ACTIVE]).prefetch_related(
            "bodies"
        )
    )
    approved = defaultdict(set)
    for programme_id, body_id in BoardApproval.objects.filter(
        programme__in=programmes, decision=BoardApproval.Decision.APPROVED
    ).values_list("programme_id", "body_id"):
        approved[programme_id].add(body_id)
    for programme in programmes:
        missing = sorted(b.name for b in programme.bodies.all() if b.pk not in approved[programme.pk])
        if missing:
            yield FindingData(
                f"{programme} is {programme.get_status_display().lower()} without the approval of the Board of "
                f"{' and '.join(missing)}.",
                [ref(programme)],
            )
