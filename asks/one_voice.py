"""The pages of "one voice": what is asked of an organisation or local health system (page, CSV, PDF letter,
API), and the consultation on an expectation (open it, respond, answer, agree, start a new version).

Organisations and regions know nothing of programmes: these pages hang off their records' pages through
the registry (a detail panel, and URLs under theirs declared here). Partners reach only the pages opened
to them in ``apps.py``; each of those checks again that the organisation is theirs.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from markupsafe import Markup
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from nhs_joint import permissions
from nhs_joint.dates import format_date
from nhs_joint.exports import stream_csv
from nhs_joint.forms import NHSDateField
from nhs_joint.pdf import render_pdf
from organisations.models import NationalBody, Organisation
from regions.models import LocalHealthSystem

from . import services as asks
from .models import Expectation, ExpectationResponse

KINDS = {"organisation": Organisation, "local-system": LocalHealthSystem}
CSV_HEADER = [
    "Measure",
    "Asks for",
    "Target (number)",
    "From",
    "Due",
    "Stage",
    "Programme",
    "Asked by",
    "Area",
    "Latest figure for the region",
    "Latest figure month",
    "Open consistency findings",
    "Own latest figure",
    "Own latest figure month",
    "Variation",
    "Assurance",
    "Met by the own latest figure",
]

LETTER_CSS = """
@page { margin: 14mm 14mm 16mm 14mm; }
html { font-size: 8.5pt; }
h1 { font-size: 13pt; margin: 0 0 3mm 0; }
.bodies { font-weight: bold; font-size: 10pt; margin: 0 0 4mm 0; }
table { width: 100%; border-collapse: collapse; margin-top: 2mm; font-size: 7.5pt; }
th, td { text-align: left; padding: 0.8mm 1mm; vertical-align: top; }
tr.first td { border-top: 0.5pt solid #aeb7bd; }
th { border-bottom: 0.8pt solid #212b32; }
.note { font-size: 7pt; color: #4c6272; }
.own { font-size: 7.5pt; }
.not-met { color: #d5281b; }
.letterhead { display: flex; justify-content: space-between; align-items: flex-start; margin: 0 0 3mm 0; }
.nhs-logo { height: 12mm; width: 30mm; }
.conflict { border-left: 1.2mm solid #d5281b; padding: 0.5mm 0 0.5mm 2mm; margin: 1mm 0; font-size: 7.5pt; }
.signature { margin-top: 5mm; }
"""


def target_of(kind, key, user):
    """The organisation or local health system at ``key``; a partner reaches only their own (else 404)."""
    model = KINDS[kind]
    target = get_object_or_404(model.objects.select_related("region"), ods_code=key)
    if getattr(user, "is_partner", False):
        own = user.partner_of
        if own is None or type(own) is not model or own.pk != target.pk:
            raise Http404("No organisation found.")
    return target


def asks_url(target, name="asks"):
    kind = "local-system" if isinstance(target, LocalHealthSystem) else "organisation"
    return reverse(f"{kind}-{name}", args=[target.ods_code])


def both_bodies():
    names = list(NationalBody.objects.order_by("name").values_list("name", flat=True))
    return " and ".join(names) if names else "NHS England and NHS Improvement"


def asks_rows(result):
    for group in result.groups:
        latest = group.latest
        for expectation, flags in group.rows:
            yield [
                group.measure.name,
                # For people the ask in words ("at least 95%"); the target alone as a number, for sums.
                group.measure.target_words(expectation.comparator, expectation.target),
                f"{expectation.target.normalize():f}",
                expectation.start_date.isoformat(),
                expectation.due_date.isoformat(),
                expectation.get_stage_display(),
                expectation.programme.title,
                expectation.issued_by.name,
                str(expectation.region or "England"),
                group.measure.figure(latest.value) if latest else "",
                f"{latest.month:%Y-%m}" if latest else "",
                " | ".join(flag["text"] for flag in flags),
                *own_columns(group.own, expectation),
            ]


def own_columns(own, expectation):
    """The organisation's own latest figure, its icons in words, and whether it meets the ask (yes, no, or empty)."""
    if own is None:
        return ["", "", "", "", ""]
    met = own.meets(expectation)
    return [
        f"{own.value.normalize():f}",
        f"{own.month:%Y-%m}",
        own.result.variation_short,
        own.result.assurance_short,
        "" if met is None else ("yes" if met else "no"),
    ]


class AsksPage(View):
    """What is asked of an organisation or local health system in a financial year (?year=2019), as a page
    or (?export=csv) a CSV file."""

    kind = "organisation"
    http_method_names = ["get", "head"]

    def get(self, request, key):
        target = target_of(self.kind, key, request.user)
        year, error = asks.parse_year(request.GET.get("year"))
        result = asks.asks_of(target, year, request.user)
        if request.GET.get("export") == "csv" and not error:
            return stream_csv(f"asks-{target.ods_code}-{year}.csv", CSV_HEADER, asks_rows(result))
        this_year = asks.financial_year_of(timezone.localdate())
        open_consultations, answered = asks.open_consultations_for(target)
        years = range(min(year, 2018), max(year, this_year + 1) + 1)
        return render(
            request,
            "asks/asks.jinja",
            {
                "page_title": f"What is asked of {target} in {result.label}",
                "target": target,
                "result": result,
                "year_error": error,
                "year_value": request.GET.get("year", "") if error else str(year),
                "years": [(y, asks.year_label(y)) for y in years],
                "audience": asks.audience_of(target),
                "is_partner": request.user.is_partner,
                "open_consultations": open_consultations,
                "answered": answered,
                "today": timezone.localdate(),
                "csv_url": f"{asks_url(target)}?year={year}&export=csv",
                "letter_url": f"{asks_url(target, 'asks-letter')}?year={year}",
                "breadcrumbs": [{"text": "Home", "href": "/"}]
                + ([] if request.user.is_partner else [{"text": str(target), "href": target.get_absolute_url()}]),
            },
            status=400 if error else 200,
        )


class AsksLetter(View):
    """The same list as a one-page PDF letter headed with both bodies."""

    kind = "organisation"
    http_method_names = ["get", "head"]

    def get(self, request, key):
        target = target_of(self.kind, key, request.user)
        year, error = asks.parse_year(request.GET.get("year"))
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        result = asks.asks_of(target, year, request.user)
        html = render_to_string(
            "asks/asks_letter.jinja",
            {
                "target": target,
                "result": result,
                "bodies": both_bodies(),
                "today": timezone.localdate(),
                "signatory": settings.LETTER_SIGNATORY,
                "signatory_role": settings.LETTER_SIGNATORY_ROLE,
                "contact": settings.LETTER_CONTACT,
            },
        )
        response = HttpResponse(render_pdf(html, LETTER_CSS), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="asks-{target.ods_code}-{year}.pdf"'
        return response


class PartnerHome(View):
    """A partner's first page: what is asked of their organisation or system."""

    def get(self, request):
        target = request.user.partner_of if request.user.is_partner else None
        if target is None:
            if request.user.is_partner:
                return render(request, "asks/partner_unlinked.jinja", {"page_title": "Your account"})
            return HttpResponseRedirect("/")
        return HttpResponseRedirect(asks_url(target))


class ConsultationList(View):
    http_method_names = ["get", "head"]

    def get(self, request):
        items = list(asks.consultations_for(request.user)[:200])
        return render(
            request,
            "asks/consultations.jinja",
            {
                "page_title": "Consultations" if not request.user.is_partner else "Consultations and agreed measures",
                "items": items,
                "is_partner": request.user.is_partner,
                "breadcrumbs": [{"text": "Home", "href": "/"}],
            },
        )


def expectation_for(request, key):
    expectation = get_object_or_404(
        Expectation.objects.select_related("programme", "measure", "region", "issued_by", "supersedes"), pk=key
    )
    if request.user.is_partner and not asks.partner_may_see(request.user, expectation):
        raise Http404("No consultation found.")
    return expectation


class ConsultationPage(View):
    """An expectation's consultation: a partner reads it and responds; staff read every response and answer."""

    http_method_names = ["get", "post", "head"]

    def get(self, request, key):
        return self.show(request, expectation_for(request, key))

    def post(self, request, key):
        expectation = expectation_for(request, key)
        if not request.user.is_partner:
            raise PermissionDenied("Only partners of the organisations consulted respond to a consultation.")
        if request.user.partner_of is None:
            raise PermissionDenied("Your account is not linked to an organisation yet: ask an Administrator.")
        try:
            asks.respond(expectation, request.user, request.POST.get("position"), request.POST.get("comment", ""))
        except asks.Refused as refusal:
            return self.show(request, expectation, errors={refusal.field or "position": str(refusal)}, status=400)
        messages.success(request, "Your response has been sent.")
        return HttpResponseRedirect(reverse("consultation-detail", args=[expectation.pk]))

    def show(self, request, expectation, errors=None, status=200):
        user = request.user
        decision = permissions.can_edit_by_bodies(user, expectation) if not user.is_partner else None
        agreed = list(expectation.agreed_by.order_by("name")) if not user.is_partner else []
        return render(
            request,
            "asks/consultation.jinja",
            {
                "page_title": f"{expectation.measure.name}: {expectation.get_audience_display().lower()}",
                "expectation": expectation,
                "responses": list(asks.responses_seen_by(user, expectation)),
                "is_open": asks.is_open(expectation),
                "is_partner": user.is_partner,
                "can_manage": bool(decision),
                "can_decide": not user.is_partner and bool(permissions.can_decide_for(user, expectation)),
                "agreed_bodies": [body.name for body in agreed],
                # The bodies this person agrees for: their own among the programme's, not yet agreed.
                "agreeing_for": [
                    body.name
                    for body in expectation.programme.bodies.order_by("name")
                    if body.pk in getattr(user, "body_ids", ()) and body not in agreed
                ],
                "errors": errors or {},
                "values": request.POST if errors else {},
                "today": timezone.localdate(),
                "positions": ExpectationResponse.Position.choices,
                "breadcrumbs": [
                    {"text": "Home", "href": "/"},
                    {"text": "Consultations", "href": reverse("consultation-list")},
                ],
            },
            status=status,
        )


class StaffStep(View):
    """A consultation step taken by staff of the programme's bodies (POST only), back to the consultation."""

    http_method_names = ["post"]
    step = None

    def post(self, request, key):
        expectation = get_object_or_404(Expectation.objects.select_related("programme", "measure", "issued_by"), pk=key)
        # Each body agrees for itself; the other steps are the issuing body's decisions.
        rule = permissions.can_edit_by_bodies if self.step == "agree" else permissions.can_decide_for
        rule(request.user, expectation).enforce()
        try:
            done, where = self.take(request, expectation)
        except asks.Refused as refusal:
            return ConsultationPage().show(
                request, expectation, errors={refusal.field or "step": str(refusal)}, status=400
            )
        messages.success(request, done)
        return HttpResponseRedirect(where)

    def take(self, request, expectation):
        if self.step == "consult":
            closes = closing_date(request.POST)
            asks.open_consultation(expectation, closes)
            return f"The consultation is open until {format_date(closes)}.", reverse(
                "consultation-detail", args=[expectation.pk]
            )
        if self.step == "agree":
            waiting = asks.agree(
                expectation,
                request.user,
                request.POST.get("summary", ""),
                request.POST.get("no_consultation_reason", ""),
            )
            return agreement_message(waiting), reverse("consultation-detail", args=[expectation.pk])
        if self.step == "withdraw":
            asks.withdraw(expectation)
            return "The expectation is withdrawn.", expectation.get_absolute_url()
        new = asks.new_version(expectation)
        return "A new version has been started as a draft: make your changes.", reverse(
            "expectation-edit", args=[new.pk]
        )


def agreement_message(waiting):
    """What the agree step says: agreed, or whose agreement is still needed."""
    if not waiting:
        return "The expectation is agreed."
    names = " and ".join(body.name for body in waiting)
    return f"Your agreement is recorded. It is agreed once {names} {'agree' if len(waiting) > 1 else 'agrees'} too."


def closing_date(data):
    """The closing date from the NHS.UK date input (closes-day, closes-month, closes-year), or None if none was
    given; a date that is not whole or not real is refused, naming the field."""
    field = NHSDateField(label="Closing date", required=False)
    try:
        return field.clean(field.widget.value_from_datadict(data, {}, "closes"))
    except ValidationError as error:
        raise asks.Refused(" ".join(error.messages), "closes") from None


class AnswerResponse(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        response = get_object_or_404(ExpectationResponse.objects.select_related("expectation__programme"), pk=pk)
        expectation = response.expectation
        permissions.can_edit_by_bodies(request.user, expectation).enforce()
        try:
            asks.answer(response, request.user, request.POST.get("answer", ""))
        except asks.Refused as refusal:
            return ConsultationPage().show(
                request, expectation, errors={f"answer-{response.pk}": str(refusal)}, status=400
            )
        messages.success(request, f"Your answer to {response.responder} has been saved.")
        return HttpResponseRedirect(reverse("consultation-detail", args=[expectation.pk]))


# The API ---------------------------------------------------------------------------------------------------


class AskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    measure = serializers.CharField(source="measure.code")
    measure_name = serializers.CharField(source="measure.name")
    comparator = serializers.CharField()
    target = serializers.DecimalField(max_digits=10, decimal_places=2)
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    stage = serializers.CharField()
    programme = serializers.CharField(source="programme.slug")
    issued_by = serializers.CharField(source="issued_by.code")
    region = serializers.CharField(source="region.ods_code", allow_null=True, default=None)


class AskRowSerializer(serializers.Serializer):
    """One expectation asked of the organisation, as the list gives it (for the API schema)."""

    latest_figure = serializers.DictField(allow_null=True, help_text="The latest figure for its region.")
    open_findings = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Open consistency findings (not for partners)."
    )


class AsksOfSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The ODS code.")
    name = serializers.CharField()
    year = serializers.CharField(help_text="The financial year, for example 2019/20.")
    results = AskRowSerializer(many=True)


@extend_schema_view(
    get=extend_schema(
        parameters=[OpenApiParameter("year", int, description="The financial year starting in April of this year.")],
        responses={200: AsksOfSerializer},
    )
)
class OrganisationExpectationsView(APIView):
    """What is asked of an organisation in a financial year (?year=2019 for April 2019 to March 2020)."""

    kind = "organisation"

    def get(self, request, code):
        target = target_of(self.kind, code, request.user)
        year, error = asks.parse_year(request.query_params.get("year"))
        if error:
            raise serializers.ValidationError({"year": [error]})
        result = asks.asks_of(target, year, request.user)
        data = []
        for group in result.groups:
            latest = group.latest
            for expectation, flags in group.rows:
                row = AskSerializer(expectation).data
                row["latest_figure"] = (
                    {"month": f"{latest.month:%Y-%m}", "value": float(latest.value)} if latest else None
                )
                if not request.user.is_partner:
                    row["open_findings"] = [flag["text"] for flag in flags]
                data.append(row)
        return Response({"code": target.ods_code, "name": target.name, "year": result.label, "results": data})


class LocalSystemExpectationsView(OrganisationExpectationsView):
    kind = "local-system"


# The panels on records' pages ------------------------------------------------------------------------------


def asks_panel(request, record, resource):
    """On an organisation's or local health system's page: what is asked of it this year."""
    if not isinstance(record, (Organisation, LocalHealthSystem)) or asks.audience_of(record) is None:
        return ""
    year = asks.financial_year_of(timezone.localdate())
    count = asks.expectations_for(record, year, request.user).count()
    return Markup(
        render_to_string(
            "asks/asks_panel.jinja",
            {"target": record, "count": count, "label": asks.year_label(year), "href": asks_url(record)},
            request=request,
        )
    )


def consultation_panel(request, record, resource):
    """On an expectation's page: its stage, and the consultation steps staff may take."""
    if not isinstance(record, Expectation):
        return ""
    return Markup(
        render_to_string(
            "asks/consultation_panel.jinja",
            {
                "expectation": record,
                "can_manage": bool(permissions.can_decide_for(request.user, record)),
                "responses": record.responses.count(),
                "today": timezone.localdate(),
                "errors": {},
                "values": {},
            },
            request=request,
        )
    )


def my_consultations(request):
    """My work: the responses to the consultations the person wrote (staff; registered in apps.py)."""
    if request.user.is_partner:
        return ""
    return Markup(
        render_to_string(
            "asks/my_consultations.jinja",
            {"responses": asks.responses_to_consultations_of(request.user)},
            request=request,
        )
    )


urlpatterns = [
    path("partners/", PartnerHome.as_view(), name="partner-home"),
    path("organisations/<str:key>/asks/", AsksPage.as_view(kind="organisation"), name="organisation-asks"),
    path(
        "organisations/<str:key>/asks/letter.pdf",
        AsksLetter.as_view(kind="organisation"),
        name="organisation-asks-letter",
    ),
    path("local-systems/<str:key>/asks/", AsksPage.as_view(kind="local-system"), name="local-system-asks"),
    path(
        "local-systems/<str:key>/asks/letter.pdf",
        AsksLetter.as_view(kind="local-system"),
        name="local-system-asks-letter",
    ),
    path("consultations/", ConsultationList.as_view(), name="consultation-list"),
    path("consultations/<int:key>/", ConsultationPage.as_view(), name="consultation-detail"),
    path("expectations/<int:key>/consult/", StaffStep.as_view(step="consult"), name="expectation-consult"),
    path("expectations/<int:key>/agree/", StaffStep.as_view(step="agree"), name="expectation-agree"),
    path("expectations/<int:key>/withdraw/", StaffStep.as_view(step="withdraw"), name="expectation-withdraw"),
    path("expectations/<int:key>/new-version/", StaffStep.as_view(step="new"), name="expectation-new-version"),
    path("consultation-responses/<int:pk>/answer/", AnswerResponse.as_view(), name="response-answer"),
]

# Opened to partners (accounts.middleware closes everything else); each view checks the record is theirs.
PARTNER_URL_NAMES = (
    "partner-home",
    "organisation-asks",
    "organisation-asks-letter",
    "local-system-asks",
    "local-system-asks-letter",
    "consultation-list",
    "consultation-detail",
    "api-organisation-expectations",
    "api-local-system-expectations",
    "api-consultations",
    "api-consultation-responses",
)
