"""The reports' pages: runs (with a Run report button and live progress) and findings (with decisions)."""

from django import forms
from django.contrib import messages
from django.db.models import F
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import engines
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views import View
from markupsafe import Markup

from nhs_joint import permissions
from nhs_joint.failures import service_unavailable
from nhs_joint.forms import Form, NHSDateField
from nhs_joint.generic import DetailConfig, ListConfig, Resource
from nhs_joint.history import format_datetime
from nhs_joint.registry import registry
from nhs_joint.tables import Column

from . import filters, services, workflow
from .models import Finding, FindingCase, FindingDecision, PairJudgement, ReportRun
from .rules import all_rules


def record_url(record):
    """The page of a record a finding names: the portal's own resource for its kind (nhs_joint/registry.py)."""
    resource = registry.resource_for(record.get("type"))
    if resource is None:
        return None
    value = record.get("key") if resource.lookup != "pk" else record.get("id")
    try:
        return resource.detail_url(value)
    except NoReverseMatch:
        return None


def severity_tag(finding):
    """A finding's severity as the design system's tag with its icon (templates/jinja2/reports/severity.jinja)."""
    template = engines["jinja2"].env.get_template("reports/severity.jinja")
    return Markup(template.module.severity_tag(finding))


def progress_context(run):
    findings = (
        list(
            run.findings.select_related("region").order_by(
                "suppressed", services.severity_rank(), "rule", F("score").desc(nulls_last=True), "pk"
            )
        )
        if run.status == ReportRun.Status.SUCCEEDED
        else []
    )
    return {"run": run, "findings": findings, "record_url": record_url, "rules": all_rules()}


def run_fields(run):
    """What a run's page says of it that changes while it runs, in words: its summary, and what reports.js polls."""
    not_yet = "Not recorded" if run.is_finished else "Not yet"
    return {
        "kind": run.get_kind_display(),
        "status": run.get_status_display(),
        "requested": format_datetime(run.created),
        "started": format_datetime(run.started) or not_yet,
        "finished": format_datetime(run.finished) or not_yet,
        "progress": f"{run.progress}%",
    }


RUN_SUMMARY = [
    ("kind", "Report"),
    ("status", "Status"),
    ("requested", "Requested"),
    ("started", "Started"),
    ("finished", "Finished"),
    ("progress", "Progress"),
]


def run_summary(run):
    fields = run_fields(run)
    return [(label, fields[key]) for key, label in RUN_SUMMARY]


MODEL_OF = {"workstream": "Workstreams", "programme": "Programmes"}


def teaching_figures(run, user):
    """For Administrators, on a duplication run's page: how many judgements reviewers had given when it ran,
    and how often the duplicate-work model agreed with them before it learnt from them and after (each
    judgement predicted by a model fitted without it)."""
    if not getattr(user, "is_administrator", False):
        return []
    figures = (run.counts or {}).get("duplicate_work_model", {})
    return [{"records": MODEL_OF.get(kind, kind), **values} for kind, values in sorted(figures.items(), reverse=True)]


def run_detail(run, request):
    fields = run_fields(run)
    return {
        **progress_context(run),
        "run_summary": [(key, label, fields[key]) for key, label in RUN_SUMMARY],
        "teaching": teaching_figures(run, request.user),
    }


reports = Resource(
    model=ReportRun,
    name="report",
    prefix="reports",
    list=ListConfig(
        queryset=lambda: ReportRun.objects.select_related("requested_by"),
        filterset=filters.ReportRunFilterSet,
        columns=[
            Column("pk", "Run", link=True),
            Column("kind", order="kind"),
            Column("status"),
            Column("created", "Requested", order="created"),
            Column(
                "requested_by",
                "By",
                getter=lambda r: str(r.requested_by) if r.requested_by else "Nightly schedule",
            ),
            Column("findings", getter=lambda r: (r.counts or {}).get("findings", ""), numeric=True),
        ],
        intro="The consistency report checks that the bodies speak with one voice; the duplication report looks for "
        "work, posts and asks that two programmes repeat. Both run every night, and whenever someone asks.",
        forms=lambda user: (
            [
                {
                    "action": reverse("report-run"),
                    "text": "Run the consistency report",
                    "fields": {"kind": "consistency"},
                },
                {
                    "action": reverse("report-run"),
                    "text": "Run the duplication report",
                    "fields": {"kind": "duplication"},
                },
            ]
            if permissions.can_run_reports(user)
            else []
        ),
    ),
    detail=DetailConfig(
        template="reports/run_detail.jinja",
        context=run_detail,
        summary=run_summary,
        has_history=False,
    ),
    # Its views are declared below: the URLs are made when the portal's are.
    extra_urls=lambda resource: [
        path("reports/run/", RunReport.as_view(), name="report-run"),
        path("reports/<int:pk>/progress/", run_progress, name="report-progress"),
    ],
)


def finding_summary(f):
    """What a finding is (its heading gives the message in full). Its one state is its case's progress, under
    “Acting on it”; a score and the terms in common are shown only for the rules that give them."""
    rows = [
        ("Rule", {"text": f.rule_name, "href": reverse("glossary") + f"#rule-{f.rule}"}),
        ("Severity", {"text": severity_tag(f)}),
        ("Region", str(f.region) if f.region else "England"),
    ]
    if f.score is not None:
        rows.append(("Score", f"{f.score:.2f}"))
    if f.shared_terms:
        rows.append(("In common", "; ".join(f.shared_terms)))
    rows.append(("Report run", {"text": f"Run {f.run_id}", "href": reverse("report-detail", args=[f.run_id])}))
    return rows


class DecisionForm(Form):
    reason = forms.CharField(
        label="Why is this not a problem?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={
            "required": "Enter a reason why this is not a problem.",
            "max_length": "The reason must be 2,000 characters or fewer.",
        },
        help_text="This hides the finding in later runs until one of its records changes. Your name and reason are kept.",
    )


class AssignForm(Form):
    assignee = forms.ModelChoiceField(
        label="Person to act on it",
        queryset=None,
        help_text="Staff of a body that runs one of the records it names.",
    )
    due_date = NHSDateField(label="Due date", required=False, help_text="For example, 15 3 2027")

    def __init__(self, *args, finding, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = workflow.assignable_people(finding)


class StateForm(Form):
    state = forms.ChoiceField(label="Progress", widget=forms.RadioSelect, choices=[])
    reason = forms.CharField(
        label="What was done, or why it is not a problem",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text="Needed for “not a problem”: it hides the finding in later runs until one of its records changes.",
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            (state, FindingCase.State(state).label) for state in workflow.CHOSEN_STATES if state != case.state
        ]

    def clean(self):
        data = super().clean()
        if data.get("state") == FindingCase.State.NOT_A_PROBLEM and not (data.get("reason") or "").strip():
            self.add_error("reason", "Enter a reason why this is not a problem.")
        return data


class JudgementForm(Form):
    """One pair of a duplicate-work finding judged: the same work, not the same work, or not sure."""

    first = forms.IntegerField(widget=forms.HiddenInput)
    second = forms.IntegerField(widget=forms.HiddenInput)
    verdict = forms.ChoiceField(
        label="Are these the same work?",
        widget=forms.RadioSelect,
        choices=PairJudgement.Verdict.choices,
        error_messages={"required": "Choose same work, not the same work or not sure."},
        help_text="“Not the same work” keeps this pair out of later reports until one of the two texts changes. "
        "Every judgement teaches the next run's scoring. Your name is kept with it.",
    )


def _pair_ids(first, second):
    """Each pair's form has fields of its own ids on a page of several."""
    return f"pair-{first}-{second}-%s"


def judged_pairs(finding, records, judgement_form=None):
    """Each pair of a duplicate-work finding with its records' names, evidence, latest judgement and form."""
    names = {(r["type"], r["id"]): r["label"] for r in records}
    latest = services.latest_judgements(finding)
    out = []
    for pair in finding.pairs or []:
        key = (pair["a"], pair["b"])
        form = judgement_form
        if form is None or (form.data.get("first"), form.data.get("second")) != tuple(str(i) for i in key):
            form = JudgementForm(initial={"first": pair["a"], "second": pair["b"]}, auto_id=_pair_ids(*key))
        out.append(
            {
                **pair,
                "first_label": names.get((pair["type"], pair["a"]), pair["a"]),
                "second_label": names.get((pair["type"], pair["b"]), pair["b"]),
                "judgement": latest.get(key),
                "form": form,
            }
        )
    return out


def finding_detail(finding, request, assign_form=None, state_form=None, judgement_form=None):
    case = workflow.case_for(finding)
    can_act = bool(permissions.can_decide_findings(request.user, finding))
    return {
        "pairs": judged_pairs(finding, finding.records, judgement_form),
        "record_url": record_url,
        "decision_form": DecisionForm(),
        "can_decide": can_act and not finding.suppressed,
        "decisions": list(finding.decisions.select_related("decided_by")),
        "case": case,
        "can_act": can_act,
        "assign_form": assign_form or AssignForm(finding=finding, initial={"assignee": case.assignee_id}),
        "state_form": state_form or StateForm(case=case),
        "case_history": list(case.history.select_related("history_user", "assignee").order_by("-history_date")[:20]),
        "overdue": case.is_active and case.due_date is not None and case.due_date < timezone.localdate(),
    }


findings = Resource(
    model=Finding,
    name="finding",
    prefix="findings",
    list=ListConfig(
        queryset=lambda: services.by_severity(
            Finding.objects.select_related("region", "run").annotate(severity_rank=services.severity_rank())
        ),
        filterset=filters.FindingFilterSet,
        columns=[
            Column("severity", getter=severity_tag, export=lambda f: f.get_severity_display(), order="severity"),
            Column("rule", getter=lambda f: f.rule_name, export=lambda f: f.rule, order="rule"),
            Column("region", getter=lambda f: f.region or "All England", order="region"),
            Column("message", "Finding", link=True),
            Column(
                "score", getter=lambda f: f"{f.score:.2f}" if f.score is not None else "", numeric=True, order="score"
            ),
            Column("suppressed", "Decided", getter=lambda f: "Not a problem" if f.suppressed else ""),
            Column("run_id", "Run"),
        ],
        intro="What the reports found. Open a finding to see its records, or to record that it is not a problem.",
    ),
    detail=DetailConfig(
        template="reports/finding_detail.jinja",
        context=finding_detail,
        summary=finding_summary,
        has_history=False,
    ),
    # The records a finding names (by type and id), its case and its decisions.
    reads=(
        FindingCase,
        FindingDecision,
        "appointments.Appointment",
        "appointments.AppointmentShare",
        "organisations.NationalBody",
        "programmes.Programme",
        "programmes.Workstream",
        "asks.Expectation",
        "measures.Measure",
        "regions.Region",
    ),
    extra_urls=lambda resource: [
        path("findings/<int:pk>/decision/", Decide.as_view(), name="finding-decision"),
        path("findings/<int:pk>/assign/", Assign.as_view(), name="finding-assign"),
        path("findings/<int:pk>/state/", ChangeState.as_view(), name="finding-state"),
        path("findings/<int:pk>/judgement/", Judge.as_view(), name="finding-judgement"),
    ],
)


class RunReport(View):
    """The Run report button: queue a run and go to its page, which shows its progress."""

    http_method_names = ["post"]

    def post(self, request):
        permissions.can_run_reports(request.user).enforce()
        kind = request.POST.get("kind")
        if kind not in ReportRun.Kind.values:
            messages.error(request, "Choose the consistency or the duplication report.")
            return HttpResponseRedirect(reverse("report-list"))
        try:
            run = services.request_run(kind, request.user)
        except services.ReportsCannotStart as refusal:
            return service_unavailable(request, str(refusal), title="Reports cannot start now")
        return HttpResponseRedirect(run.get_absolute_url())


def run_progress(request, pk):
    """What changes on a run's page while it runs, as JSON (fetched by reports.js every two seconds until the
    run has finished): its status, times and progress in words, and the HTML of its progress or findings."""
    run = get_object_or_404(ReportRun, pk=pk)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "is_finished": run.is_finished,
            "progress": run.progress,
            "fields": run_fields(run),
            "html": render_to_string("reports/progress.jinja", progress_context(run), request=request),
        }
    )


def _finding_page(request, finding, status=400, **forms_):
    context = {
        "resource": findings,
        "object": finding,
        "page_title": str(finding),
        "breadcrumbs": findings.breadcrumbs(),
        "summary": finding_summary(finding),
        "can_edit": False,
        **finding_detail(finding, request, **forms_),
        "form_has_errors": True,
    }
    return render(request, "reports/finding_detail.jinja", context, status=status)


class Assign(View):
    """Give a finding to a person to act on, with a due date."""

    http_method_names = ["post"]

    def post(self, request, pk):
        finding = get_object_or_404(Finding.objects.select_related("run", "region"), pk=pk)
        permissions.can_decide_findings(request.user, finding).enforce()
        form = AssignForm(request.POST, finding=finding)
        if form.is_valid():
            try:
                case = workflow.assign(
                    finding, form.cleaned_data["assignee"], form.cleaned_data["due_date"], request.user
                )
            except workflow.WorkflowError as refusal:
                form.add_error(refusal.field, str(refusal))
            else:
                messages.success(request, f"Given to {case.assignee}.")
                return HttpResponseRedirect(finding.get_absolute_url())
        return _finding_page(request, finding, assign_form=form)


class ChangeState(View):
    """Mark a finding in progress, resolved, not a problem, or open again."""

    http_method_names = ["post"]

    def post(self, request, pk):
        finding = get_object_or_404(Finding.objects.select_related("run", "region"), pk=pk)
        permissions.can_decide_findings(request.user, finding).enforce()
        case = workflow.case_for(finding)
        form = StateForm(request.POST, case=case)
        if form.is_valid():
            try:
                case = workflow.change_state(
                    finding, form.cleaned_data["state"], request.user, form.cleaned_data["reason"]
                )
            except (workflow.WorkflowError, ValueError) as refusal:
                form.add_error(getattr(refusal, "field", "reason"), str(refusal))
            else:
                messages.success(request, f"This finding is now {case.get_state_display().lower()}.")
                return HttpResponseRedirect(finding.get_absolute_url())
        return _finding_page(request, finding, state_form=form)


class Judge(View):
    """A reviewer's judgement of one pair of a duplicate-work finding."""

    http_method_names = ["post"]

    def post(self, request, pk):
        finding = get_object_or_404(Finding.objects.select_related("run", "region"), pk=pk)
        permissions.can_decide_findings(request.user, finding).enforce()
        form = JudgementForm(request.POST, auto_id=_pair_ids(request.POST.get("first"), request.POST.get("second")))
        if form.is_valid():
            data = form.cleaned_data
            try:
                judgement = services.judge_pair(finding, request.user, data["first"], data["second"], data["verdict"])
            except services.JudgementRefused as refusal:
                form.add_error("verdict" if refusal.field == "verdict" else None, str(refusal))
            else:
                messages.success(request, f"Recorded: {judgement.get_verdict_display().lower()}.")
                return HttpResponseRedirect(finding.get_absolute_url())
        return _finding_page(request, finding, judgement_form=form)


class Decide(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        permissions.can_decide_findings(request.user).enforce()
        finding = get_object_or_404(Finding, pk=pk)
        permissions.can_decide_findings(request.user, finding).enforce()
        form = DecisionForm(request.POST)
        if not form.is_valid():
            # The page's one form for it is "Update progress": its reason shows the message.
            state_form = StateForm(
                {"state": FindingCase.State.NOT_A_PROBLEM, "reason": request.POST.get("reason", "")},
                case=workflow.case_for(finding),
            )
            state_form.is_valid()
            return _finding_page(request, finding, state_form=state_form)
        services.decide(finding, request.user, form.cleaned_data["reason"])
        messages.success(
            request, "Recorded as not a problem. It will not be reported again until one of its records changes."
        )
        return HttpResponseRedirect(finding.get_absolute_url())


RESOURCES = [reports, findings]
