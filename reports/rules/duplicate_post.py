"""Two current single-body posts, one in each body, with the same role and title in the same place: one joint post?

Joint appointments replace parallel posts: a post in NHS England and a post in
NHS Improvement with the same role and the same title (ignoring case) in the
same region, or both national, are candidates for one joint post.
"""

from collections import defaultdict

from appointments.models import Appointment

from . import FindingData, current, ref, rule


@rule("duplicate-post", kind="duplication", severity="medium", name="Duplicate post")
def check(context):
    single = defaultdict(lambda: defaultdict(list))
    posts = (
        Appointment.objects.filter(current(on=context.today))
        .select_related("person", "region")
        .prefetch_related("shares__body")
        .order_by("pk")
    )
    for post in posts:
        bodies = {share.body.code for share in post.shares.all() if share.fte_percent > 0}
        if len(bodies) == 1:
            key = (post.role, " ".join(post.title.lower().split()), post.region_id)
            single[key][bodies.pop()].append(post)
    for (_role, _title, region_id), by_body in single.items():
        if len(by_body) < 2:
            continue
        codes = sorted(by_body)
        for a in by_body[codes[0]]:
            for b in by_body[codes[1]]:
                yield FindingData(
                    f"{a.person.name} ({codes[0]}) and {b.person.name} ({codes[1]}) each hold the post “{a.title}” "
                    f"{'in ' + str(a.region) if a.region else 'nationally'}: a candidate for one joint post.",
                    [ref(a, "appointment"), ref(b, "appointment")],
                    region_id=region_id,
                    score=1.0,
                )
