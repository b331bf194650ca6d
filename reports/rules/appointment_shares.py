"""An appointment's shares of full-time equivalent between the bodies total 100%.

A joint post is paid for by both bodies: the shares must add up to the whole
post, no more and no less.
"""

from django.db.models import Sum

from appointments.models import Appointment

from . import FindingData, current, ref, rule


@rule("appointment-shares", kind="consistency", severity="medium", name="Appointment shares")
def check(context):
    posts = (
        Appointment.objects.filter(current(on=context.today))
        .annotate(total=Sum("shares__fte_percent"))
        .select_related("person", "region")
    )
    for post in posts:
        if post.total is None or post.total != 100:
            total = f"{post.total.normalize():f}%" if post.total is not None else "nothing"
            yield FindingData(
                f"The shares of {post.person.name}'s post “{post.title}” total {total}, not 100%.",
                [ref(post, "appointment"), ref(post.person, "person")],
                region_id=post.region_id,
            )
