"""What is asked of an organisation or a local health system: one list, from both bodies, by measure.

An expectation applies to an organisation when it is asked of the organisation's audience (providers of
NHS trusts, foundation trusts and independent providers; commissioners of CCGs; local health systems of
the systems themselves), in its region or in all of England, for some day of the year looked at (a
financial year, April to March). Withdrawn versions are asked of nobody; drafts are shown to staff only.
The consultation rules (who sees, who responds, who agrees) live here too, so that the pages and the API
answer alike.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from measures.models import Measurement, ProgrammeMeasure
from nhs_joint.dates import format_date
from nhs_joint.registry import registry
from notifications import services as notices
from notifications.models import Notification
from organisations.models import Organisation
from programmes.models import Audience
from regions.models import LocalHealthSystem

from . import figures
from .models import Expectation, ExpectationResponse, MeasureAgreement

PROVIDER_KINDS = {
    Organisation.Kind.NHS_TRUST,
    Organisation.Kind.FOUNDATION_TRUST,
    Organisation.Kind.INDEPENDENT_PROVIDER,
}
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # the years the date selector takes
STAFF_STAGES = (Expectation.Stage.DRAFT, Expectation.Stage.CONSULTATION, Expectation.Stage.AGREED)
PARTNER_STAGES = (Expectation.Stage.CONSULTATION, Expectation.Stage.AGREED)
MAX_TEXT = 5000
MAX_CONSULTATIONS = 200  # the most a list of consultations shows
REMIND_DAYS_BEFORE = 7  # partners who have not answered are reminded this many days before it closes


def audience_of(target):
    """The audience an organisation or local health system belongs to, or None (asked nothing)."""
    if isinstance(target, LocalHealthSystem):
        return Audience.LOCAL_SYSTEMS
    if target.kind in PROVIDER_KINDS:
        return Audience.PROVIDERS
    if target.kind == Organisation.Kind.CCG:
        return Audience.COMMISSIONERS
    return None


def financial_year_of(day):
    """The financial year a day falls in, by the year it starts: 1 April 2019 to 31 March 2020 is 2019."""
    return day.year if day.month >= 4 else day.year - 1


def year_bounds(year):
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def year_label(year):
    return f"{year}/{(year + 1) % 100:02d}"


def parse_year(value, today=None):
    """(year, error): the financial year asked for in the selector, or the current one when none is given."""
    current = financial_year_of(today or timezone.localdate())
    if value in (None, ""):
        return current, None
    try:
        year = int(str(value).strip()[:4] if "/" in str(value) else str(value).strip())
    except ValueError:
        return current, "Enter a year as 4 numbers, like 2019 for April 2019 to March 2020."
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return current, f"Enter a year between {EARLIEST_YEAR} and {LATEST_YEAR}."
    return year, None


def visible_stages(user):
    return PARTNER_STAGES if getattr(user, "is_partner", False) else STAFF_STAGES


def applies_q(target, prefix=""):
    """Q for the expectations asked of ``target`` (audience and area; dates and stages apart)."""
    audience = audience_of(target)
    if audience is None:
        return Q(pk__in=[])
    area = Q(**{f"{prefix}region__isnull": True})
    if target.region_id:
        area |= Q(**{f"{prefix}region_id": target.region_id})
    return Q(**{f"{prefix}audience": audience}) & area


def expectations_for(target, year, user):
    """The expectations that apply to ``target`` in the financial ``year``, as ``user`` may see them."""
    first, last = year_bounds(year)
    return (
        Expectation.objects.filter(applies_q(target), start_date__lte=last, due_date__gte=first)
        .filter(stage__in=visible_stages(user))
        .select_related("programme", "issued_by", "measure", "region")
        .prefetch_related("programme__bodies")
        .order_by("measure__code", "start_date", "programme__title", "pk")
    )


@dataclass
class MeasureGroup:
    measure: object
    latest: object  # the latest Measurement for the target's region (else England) up to the year's end, or None
    rows: list = field(default_factory=list)  # [(expectation, [flag, …])]
    own: object = None  # the target's own latest figure and its icons (asks/figures.py), or None

    @property
    def conflicts(self):
        """The different targets asked on this measure, in words, one per target ("NHS Improvement asks at
        least 90% (Urgent and emergency care)"), when the asks do not all agree; else empty. What a reader
        must not be left to find: the 90% and the 95% A&E asks cannot both be the target."""
        asked = {}
        for expectation, _ in self.rows:
            asked.setdefault((expectation.comparator, expectation.target.normalize()), expectation)
        if len(asked) < 2:
            return []
        return [
            f"{e.issued_by.name} asks {self.measure.target_words(e.comparator, e.target)} ({e.programme})"
            for e in asked.values()
        ]


@dataclass
class Asks:
    target: object
    year: int
    groups: list
    flagged: int

    @property
    def label(self):
        return year_label(self.year)

    @property
    def expectations(self):
        return [e for group in self.groups for e, _ in group.rows]


def asks_of(target, year, user):
    """What is asked of ``target`` in ``year``, grouped by measure, with each region's latest figure and (for
    staff, never partners) the open consistency findings about each ask. A fixed number of queries."""
    expectations = list(expectations_for(target, year, user))
    flags = {}
    if expectations and not getattr(user, "is_partner", False):
        flags = registry.flags_for("expectation", [e.pk for e in expectations])
    latest = latest_figures({e.measure_id for e in expectations}, target.region_id, year_bounds(year)[1])
    own = figures.own_figures(target, {e.measure_id: e.measure for e in expectations}, year_bounds(year)[1])
    groups = {}
    for expectation in expectations:
        group = groups.get(expectation.measure_id)
        if group is None:
            group = groups[expectation.measure_id] = MeasureGroup(
                expectation.measure, latest.get(expectation.measure_id), own=own.get(expectation.measure_id)
            )
        group.rows.append((expectation, flags.get(expectation.pk, [])))
    return Asks(target, year, list(groups.values()), sum(1 for e in expectations if flags.get(e.pk)))


def latest_figures(measure_ids, region_id, until):
    """{measure id: the latest measurement of the region up to ``until``}, one query (DISTINCT ON).

    A target with no region gets England's figures."""
    if not measure_ids:
        return {}
    rows = (
        Measurement.objects.filter(measure_id__in=measure_ids, month__lte=until)
        .filter(Q(region_id=region_id) if region_id else Q(region__isnull=True))
        .select_related("region")
        .order_by("measure_id", "-month")
        .distinct("measure_id")
    )
    return {row.measure_id: row for row in rows}


# Consultation -----------------------------------------------------------------------------------------------


class Refused(Exception):
    """A consultation step that cannot be taken: the message names the field (or is for the page)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def partner_may_see(user, expectation):
    """A partner sees an expectation in consultation or agreed that applies to their organisation or system."""
    target = user.partner_of
    if target is None or expectation.stage not in PARTNER_STAGES or expectation.archived_at is not None:
        return False
    return Expectation.objects.filter(applies_q(target), pk=expectation.pk).exists()


def consultations_for(user):
    """The expectations a partner is consulted on, or agreed for them (staff: every consultation)."""
    queryset = Expectation.objects.select_related("programme", "measure", "region", "issued_by")
    if user.is_partner:
        target = user.partner_of
        if target is None:
            return queryset.none()
        return queryset.filter(applies_q(target), stage__in=PARTNER_STAGES).order_by("-stage", "measure__code", "pk")
    return queryset.filter(stage=Expectation.Stage.CONSULTATION).order_by("consultation_closes", "pk")


def responses_seen_by(user, expectation):
    """Staff see every response; a partner only their own organisation's (or system's)."""
    responses = expectation.responses.select_related("organisation", "local_system", "responded_by", "answered_by")
    if user.is_partner:
        target = user.partner_of
        if target is None:
            return responses.none()
        if isinstance(target, LocalHealthSystem):
            return responses.filter(local_system=target)
        return responses.filter(organisation=target)
    return responses


def open_consultations_for(target, today=None):
    """(the consultations open for ``target`` now, soonest to close first; the ids of those it answered), in one
    query."""
    from django.db.models import Exists, OuterRef

    today = today or timezone.localdate()
    own = Q(local_system=target) if isinstance(target, LocalHealthSystem) else Q(organisation=target)
    rows = list(
        Expectation.objects.filter(
            applies_q(target), stage=Expectation.Stage.CONSULTATION, consultation_closes__gte=today
        )
        .annotate(answered=Exists(ExpectationResponse.objects.filter(own, expectation=OuterRef("pk"))))
        .select_related("measure", "region")
        .order_by("consultation_closes", "pk")[:MAX_CONSULTATIONS]
    )
    return rows, {e.pk for e in rows if e.answered}


def responses_to_consultations_of(user, limit=25):
    """The latest responses to the consultations ``user`` wrote, newest first (one query)."""
    return list(
        ExpectationResponse.objects.filter(expectation__in=Expectation.objects.filter(written_by(user)))
        .select_related("expectation__measure", "expectation__region", "organisation", "local_system")
        .order_by("-responded_at", "-pk")[:limit]
    )


def is_open(expectation, today=None):
    today = today or timezone.localdate()
    return (
        expectation.stage == Expectation.Stage.CONSULTATION
        and expectation.consultation_closes is not None
        and today <= expectation.consultation_closes
    )


def open_consultation(expectation, closes, today=None):
    today = today or timezone.localdate()
    if expectation.stage != Expectation.Stage.DRAFT:
        raise Refused(
            f"Only a draft can go out to consultation: this expectation is {expectation.get_stage_display()}."
        )
    if closes is None:
        raise Refused("Enter the date the consultation closes.", "closes")
    if closes <= today:
        raise Refused("The closing date must be in the future.", "closes")
    if closes > today + dt.timedelta(days=366):
        raise Refused("The consultation must close within a year.", "closes")
    expectation.stage = Expectation.Stage.CONSULTATION
    expectation.consultation_closes = closes
    expectation.save()
    notify_partners(
        expectation,
        f"{expectation.issued_by.name} asks your view on {expectation} by {format_date(closes)}: "
        "a consultation is open for your organisation",
    )


def respond(expectation, user, position, comment, now=None):
    """A partner's response for their organisation or system; refused once the consultation has closed."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    if not is_open(expectation, timezone.localdate(now)):
        raise Refused("This consultation is closed: responses are no longer taken.")
    if position not in ExpectationResponse.Position.values:
        raise Refused("Select whether you agree or have concerns.", "position")
    if position == ExpectationResponse.Position.CONCERNS and not comment:
        raise Refused("Enter your concerns.", "comment")
    if len(comment) > MAX_TEXT:
        raise Refused(f"Your comment must be {MAX_TEXT:,} characters or fewer.", "comment")
    target = user.partner_of
    response = ExpectationResponse.objects.create(
        expectation=expectation,
        organisation=target if isinstance(target, Organisation) else None,
        local_system=target if isinstance(target, LocalHealthSystem) else None,
        position=position,
        comment=comment,
        responded_by=user,
        responded_at=now,
    )
    notify_author_and_watchers(expectation, response)
    return response


def answer(response, user, text, now=None):
    text = (text or "").strip()
    if not text:
        raise Refused("Enter your answer.", "answer")
    if len(text) > MAX_TEXT:
        raise Refused(f"The answer must be {MAX_TEXT:,} characters or fewer.", "answer")
    if response.answer:
        raise Refused("This response has been answered already: the answer is kept as it was given.")
    response.answer = text
    response.answered_by = user
    response.answered_at = now or timezone.now()
    response.save()
    return response


def agree(expectation, user, summary="", no_consultation_reason="", today=None):
    """``user`` records the agreement of their own bodies among those that run the programme: never the
    other body's. Agreement comes after the consultation has closed, or, for a draft never consulted on,
    with the reason why no consultation was needed.

    Once every body of the programme has agreed, the expectation is agreed: the version it supersedes is
    withdrawn, and the organisations that agreed in the consultation are recorded against the programme's
    measure of success on that measure. Returns the bodies whose agreement is still needed.
    """
    today = today or timezone.localdate()
    summary = (summary or "").strip()
    no_consultation_reason = (no_consultation_reason or "").strip()
    _check_stage_for_agreement(expectation, no_consultation_reason, today)
    bodies = list(expectation.programme.bodies.order_by("name"))
    agreed = set(expectation.agreed_by.values_list("pk", flat=True))
    new = _bodies_agreeing_now(bodies, agreed, user)
    responses = list(expectation.responses.all())
    _check_agreement_texts(expectation, responses, summary, no_consultation_reason)
    waiting = [body for body in bodies if body.pk not in agreed | {body.pk for body in new}]
    with transaction.atomic():
        if summary:
            expectation.responses_summary = summary
        if no_consultation_reason and expectation.stage == Expectation.Stage.DRAFT:
            expectation.no_consultation_reason = no_consultation_reason
        if not waiting:
            expectation.stage = Expectation.Stage.AGREED
            expectation.agreed_on = today
        expectation.save()
        expectation.agreed_by.add(*new)
        if waiting:
            return waiting
        _put_agreed_expectation_in_force(expectation, responses)
    return []


def _check_stage_for_agreement(expectation, no_consultation_reason, today):
    """Agreement comes after the consultation has closed, or for a draft with the reason none was needed."""
    if expectation.stage not in (Expectation.Stage.DRAFT, Expectation.Stage.CONSULTATION):
        raise Refused(f"This expectation is {expectation.get_stage_display().lower()} already.")
    if expectation.stage == Expectation.Stage.CONSULTATION and is_open(expectation, today):
        raise Refused(
            f"The consultation closes on {format_date(expectation.consultation_closes)}: agree it after it closes."
        )
    if expectation.stage == Expectation.Stage.DRAFT and not (
        no_consultation_reason or expectation.no_consultation_reason
    ):
        raise Refused(
            "Open a consultation with the organisations it applies to, or say why no consultation is needed.",
            "no_consultation_reason",
        )


def _bodies_agreeing_now(bodies, agreed, user):
    """The user's own bodies among the programme's that have not agreed yet: never the other body's."""
    yours = [body for body in bodies if body.pk in user.body_ids]
    if not yours:
        raise Refused("Only staff of the bodies that run the programme agree its expectations.")
    new = [body for body in yours if body.pk not in agreed]
    if not new:
        raise Refused(f"{' and '.join(body.name for body in yours)} agreed this expectation already.")
    return new


def _check_agreement_texts(expectation, responses, summary, no_consultation_reason):
    if responses and not (summary or expectation.responses_summary):
        raise Refused("Summarise the responses to the consultation.", "summary")
    for name, text in (("summary", summary), ("no_consultation_reason", no_consultation_reason)):
        if len(text) > MAX_TEXT:
            raise Refused(
                f"The {'summary' if name == 'summary' else 'reason'} must be {MAX_TEXT:,} characters or fewer.", name
            )


def _put_agreed_expectation_in_force(expectation, responses):
    """The version it supersedes is withdrawn; those that agreed in the consultation agree the measure."""
    if expectation.supersedes_id:
        old = Expectation.objects.select_for_update().get(pk=expectation.supersedes_id)
        old.stage = Expectation.Stage.WITHDRAWN
        old.save()
    measure = ProgrammeMeasure.objects.filter(programme=expectation.programme, measure=expectation.measure).first()
    if measure is not None:
        for response in responses:
            if response.position == ExpectationResponse.Position.AGREE:
                MeasureAgreement.objects.create(
                    programme_measure=measure,
                    organisation_id=response.organisation_id,
                    local_system_id=response.local_system_id,
                    agreed_on=timezone.localdate(response.responded_at),
                    expectation=expectation,
                )


def withdraw(expectation):
    if expectation.stage == Expectation.Stage.WITHDRAWN:
        raise Refused("This expectation is withdrawn already.")
    expectation.stage = Expectation.Stage.WITHDRAWN
    expectation.save()


def new_version(expectation):
    """A draft copy of an agreed expectation, linked to it: the change is made, consulted on and agreed there,
    and the agreed version stays in force until then."""
    if expectation.stage != Expectation.Stage.AGREED:
        raise Refused("Only an agreed expectation gets a new version: change a draft directly.")
    existing = expectation.superseded_by.exclude(stage=Expectation.Stage.WITHDRAWN).first()
    if existing is not None:
        raise Refused(f"A new version is already being prepared: {existing} ({existing.get_stage_display()}).")
    fields = ["programme", "issued_by", "audience", "region", "measure", "comparator", "target"]
    return Expectation.objects.create(
        **{name: getattr(expectation, name) for name in fields},
        start_date=expectation.start_date,
        due_date=expectation.due_date,
        wording=expectation.wording,
        stage=Expectation.Stage.DRAFT,
        supersedes=expectation,
    )


# Who hears of a consultation ------------------------------------------------------------------------------


def author_of(expectation):
    """The member of staff who wrote the expectation: whoever added it (its first recorded version), or None."""
    first = expectation.history.filter(history_type="+").order_by("history_id").values_list("history_user_id")
    row = first.first()
    return row[0] if row else None


def written_by(user):
    """The expectations ``user`` wrote (added), as a Q."""
    added = Expectation.history.filter(history_type="+", history_user=user).values("id")
    return Q(pk__in=added)


def partners_of(expectation):
    """The active partners of every organisation and local health system the expectation applies to (by its
    audience and area), as a queryset of people."""
    partners = User.objects.filter(is_active=True, groups__name=Role.PARTNER)
    area = Q() if expectation.region_id is None else Q(region_id=expectation.region_id)
    if expectation.audience == Audience.LOCAL_SYSTEMS:
        systems = LocalHealthSystem.objects.filter(area)
        return partners.filter(local_system__in=systems).distinct()
    kinds = PROVIDER_KINDS if expectation.audience == Audience.PROVIDERS else {Organisation.Kind.CCG}
    organisations = Organisation.objects.filter(area, kind__in=kinds)
    return partners.filter(organisation__in=organisations).distinct()


def _about(expectation):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Expectation).pk, expectation.pk


def consultation_url(expectation):
    from django.urls import reverse

    return reverse("consultation-detail", args=[expectation.pk])


def notify_partners(expectation, text, only_unanswered=False):
    """Each partner the consultation is for is told (in the portal, and by email at once if they want that);
    ``only_unanswered``: only those whose organisation or system has not responded yet."""
    people = partners_of(expectation)
    if only_unanswered:
        answered = expectation.responses.all()
        people = people.exclude(organisation__in=answered.filter(organisation__isnull=False).values("organisation"))
        people = people.exclude(local_system__in=answered.filter(local_system__isnull=False).values("local_system"))
    ct, pk = _about(expectation)
    url = consultation_url(expectation)
    return notices.notify(
        (
            Notification(
                user_id=user_id,
                kind=Notification.Kind.CONSULTATION,
                text=text,
                url=url,
                content_type_id=ct,
                object_id=pk,
            )
            for user_id in people.values_list("pk", flat=True).order_by("pk")
        ),
        records=[expectation],
    )


def notify_author_and_watchers(expectation, response):
    """A response reaches the expectation's author and the programme's watchers at once, quoting its comment."""
    said = "agrees" if response.position == ExpectationResponse.Position.AGREE else "has concerns"
    quote = f": “{response.comment[:300]}”" if response.comment else "."
    text = f"{response.responder} {said} about {expectation}{quote}"
    ct, pk = _about(expectation)
    key = notices.key_of(expectation.programme)
    people = set(notices.watchers([key]).get(key, set()))
    author = author_of(expectation)
    if author is not None:
        people.add(author)
    return notices.notify(
        (
            Notification(
                user_id=user_id,
                kind=Notification.Kind.RESPONSE,
                text=text,
                url=consultation_url(expectation),
                actor=response.responded_by,
                content_type_id=ct,
                object_id=pk,
            )
            for user_id in sorted(people)
        ),
        records=[expectation],
    )


def summary_of_responses(expectation):
    """ "3 responses: 2 agree, 1 has concerns (Barts Health: “…”)", in words, for the author's notice."""
    responses = list(expectation.responses.select_related("organisation", "local_system"))
    if not responses:
        return "No organisation responded."
    agree = sum(1 for r in responses if r.position == ExpectationResponse.Position.AGREE)
    concerns = [r for r in responses if r.position == ExpectationResponse.Position.CONCERNS]
    text = (
        f"{len(responses)} response{'s' if len(responses) != 1 else ''}: {agree} agree, {len(concerns)} with concerns"
    )
    if concerns:
        text += " (" + "; ".join(f"{r.responder}: “{r.comment[:80]}”" for r in concerns[:3]) + ")"
    return text + "."


def _claim_each(due, stamp, act):
    """``act(expectation)`` for each consultation of ``due`` whose ``stamp`` field this run sets, each inside its
    own transaction (a failure undoes that one's stamp too): claimed by one run only, so that a second (or a
    concurrent) run finds it done and passes it by. Returns how many were acted on."""
    count = 0
    for expectation in due.select_related("programme", "measure", "region", "issued_by"):
        with transaction.atomic():
            claimed = Expectation.objects.filter(pk=expectation.pk, **{f"{stamp}__isnull": True}).update(
                **{stamp: timezone.now()}
            )
            if claimed:
                act(expectation)
                count += 1
    return count


def remind_consultations(today=None):
    """Once per consultation, 7 days before it closes: the partners whose organisation has not answered are
    reminded. Returns how many consultations were reminded (a second run the same day reminds none)."""
    today = today or timezone.localdate()
    due = Expectation.objects.filter(
        stage=Expectation.Stage.CONSULTATION,
        consultation_reminded_at__isnull=True,
        consultation_closes__gte=today,
        consultation_closes__lte=today + dt.timedelta(days=REMIND_DAYS_BEFORE),
    )

    def remind(expectation):
        notify_partners(
            expectation,
            f"Reminder: the consultation on {expectation} closes on {format_date(expectation.consultation_closes)} "
            "and your organisation has not responded",
            only_unanswered=True,
        )

    return _claim_each(due, "consultation_reminded_at", remind)


def close_consultations(today=None):
    """Each consultation whose closing date has passed closes itself, once: its author is told it is ready to
    agree, with the responses summarised. Returns how many closed (a second run closes none)."""
    today = today or timezone.localdate()
    due = Expectation.objects.filter(
        stage=Expectation.Stage.CONSULTATION, consultation_closed_at__isnull=True, consultation_closes__lt=today
    )

    def close(expectation):
        author = author_of(expectation)
        if author is not None:
            ct, pk = _about(expectation)
            notices.notify(
                [
                    Notification(
                        user_id=author,
                        kind=Notification.Kind.CONSULTATION,
                        text=f"The consultation on {expectation} closed on "
                        f"{format_date(expectation.consultation_closes)} and is ready to agree. "
                        f"{summary_of_responses(expectation)}",
                        url=consultation_url(expectation),
                        content_type_id=ct,
                        object_id=pk,
                    )
                ],
                records=[expectation],
            )

    return _claim_each(due, "consultation_closed_at", close)
