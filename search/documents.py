"""What each kind of record is found by, written to one stored, indexed table (search.models.SearchDocument).

A record is found by its own words (weight C), its title and code (A), and the names of what it belongs
to and points at (B): a workstream by its programme's title, its regions, its owning body and audiences;
an expectation by its measure, region and programme; an appointment by the person and the post; an
organisation by its name, ODS code, local health system and region.

Before a text is stored it gains what people may type instead of its words (search/words.py): British
spellings, hyphenated words joined, and a token for each NHS glossary concept it names, so that "UEC"
finds "urgent and emergency care" and the reverse.

The documents are kept current by the records' save and delete signals, and a record whose title changes
refreshes the documents that name it (a programme renamed refreshes its workstreams, expectations and
appointments; so does one archived or restored, whose workstreams' documents are archived with it, in the
same transaction). Writes that send no signal (QuerySet.update, bulk_create, raw SQL, the reference data's
loader) are left to ``manage.py rebuild_search`` (and the Celery task ``search.tasks.rebuild_search``),
which writes every document again in one transaction.
"""

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from appointments.models import Appointment, AppointmentShare, Person
from asks.models import Expectation
from measures.models import Measure
from nhs_joint import bulk
from nhs_joint.registry import registry
from organisations.models import NationalBody, Organisation
from programmes.models import Audience, Programme, Workstream
from regions.models import LocalHealthSystem, Region
from reports.models import Finding, ReportRun
from reports.services import open_findings

from .words import index_text, title_words

BATCH = 1000


@dataclass(frozen=True)
class Document:
    title: str
    code: str = ""
    belongs_to: list = field(default_factory=list)  # names, joined with " · " on the page
    text: str = ""
    archived: bool = False
    kind: str = ""  # when not the kind's own name (an expectation in consultation)


@dataclass
class Kind:
    """A kind of record the search finds: its records' queryset, how each becomes a Document, and the other
    kinds whose documents name it (``dependents``: model -> ids of those that point at the given ids)."""

    name: str  # as the search calls it: "programme", "local-system"
    label: str  # "Local health systems"
    model: type
    queryset: callable
    document: callable
    dependents: dict = field(default_factory=dict)

    @property
    def source(self):
        return self.model._meta.label_lower

    def key_of(self, record):
        resource = registry.resource_for(self.model._meta.model_name)
        return str(getattr(record, resource.lookup if resource else "pk"))


def _names(*records):
    return [str(r) for r in records if r is not None and str(r)]


def _archived(*records):
    return any(getattr(r, "archived_at", None) is not None for r in records if r is not None)


def programme_document(p):
    bodies = list(p.bodies.all())
    return Document(
        title=p.title,
        code=p.slug,
        belongs_to=_names(*bodies, p.theme, p.senior_responsible_owner and p.senior_responsible_owner.person),
        text=" ".join([p.summary, p.description, p.get_status_display()]),
        archived=_archived(p),
    )


def workstream_document(w):
    audiences = [Audience(a).label for a in w.audiences if a in Audience.values]
    return Document(
        title=w.title,
        belongs_to=_names(w.programme, *w.regions.all(), w.body, *audiences),
        text=w.description,
        archived=_archived(w, w.programme),
    )


def expectation_document(e):
    return Document(
        title=str(e),
        code=e.measure.code,
        belongs_to=_names(e.programme, e.measure, e.region or "England", e.issued_by, e.get_audience_display()),
        text=" ".join([e.wording, e.get_stage_display()]),
        archived=_archived(e, e.programme, e.measure) or e.stage == Expectation.Stage.WITHDRAWN,
        kind="consultation" if e.stage == Expectation.Stage.CONSULTATION else "expectation",
    )


def measure_document(m):
    return Document(title=m.name, code=m.code, text=m.get_unit_display(), archived=_archived(m))


def person_document(p):
    posts = [a for a in p.appointments.all() if a.archived_at is None]
    return Document(
        title=p.name,
        code=p.email,
        belongs_to=[a.title for a in posts] + _names(*{a.region for a in posts if a.region}),
        archived=_archived(p),
    )


def appointment_document(a):
    bodies = [share.body for share in a.shares.all()]
    return Document(
        title=str(a),
        belongs_to=_names(a.person, a.region, a.programme, *bodies) + [a.get_role_display()],
        text=a.title,
        archived=_archived(a, a.person),
    )


def organisation_document(o):
    return Document(
        title=o.name,
        code=o.ods_code,
        belongs_to=_names(o.local_system, o.region) + [o.get_kind_display()],
        text=o.postcode,
        archived=o.closed is not None,
    )


def local_system_document(s):
    return Document(title=s.name, code=s.ods_code, belongs_to=_names(s.region))


def region_document(r):
    return Document(title=r.name, code=r.ods_code, belongs_to=_names(r.short_name), text=r.notes, archived=not r.active)


def finding_document(f):
    labels = [str(record.get("label", "")) for record in f.records or []]
    return Document(title=str(f), code=f.rule, belongs_to=_names(f.region) + labels, text=f.message)


def _ids(queryset, column):
    return lambda ids: queryset().filter(**{f"{column}__in": ids}).values_list("pk", flat=True)


KINDS = [
    Kind(
        "programme",
        "Programmes",
        Programme,
        lambda: Programme.all_objects.select_related("senior_responsible_owner__person").prefetch_related("bodies"),
        programme_document,
    ),
    Kind(
        "workstream",
        "Workstreams",
        Workstream,
        lambda: Workstream.all_objects.select_related("programme", "body").prefetch_related("regions"),
        workstream_document,
    ),
    Kind(
        "expectation",
        "Expectations",
        Expectation,
        lambda: Expectation.all_objects.select_related("programme", "measure", "region", "issued_by"),
        expectation_document,
    ),
    Kind("measure", "Measures", Measure, lambda: Measure.all_objects.all(), measure_document),
    Kind(
        "person",
        "People",
        Person,
        lambda: Person.all_objects.prefetch_related("appointments__region"),
        person_document,
    ),
    Kind(
        "appointment",
        "Appointments",
        Appointment,
        lambda: Appointment.all_objects.select_related("person", "region", "programme").prefetch_related(
            "shares__body"
        ),
        appointment_document,
    ),
    Kind(
        "organisation",
        "Organisations",
        Organisation,
        lambda: Organisation.objects.select_related("local_system", "region"),
        organisation_document,
    ),
    Kind(
        "local-system",
        "Local health systems",
        LocalHealthSystem,
        lambda: LocalHealthSystem.objects.select_related("region"),
        local_system_document,
    ),
    Kind("region", "Regions", Region, lambda: Region.objects.all(), region_document),
    Kind("finding", "Findings", Finding, lambda: open_findings().select_related("region"), finding_document),
]
KIND_OF_SOURCE = {kind.source: kind for kind in KINDS}
KIND_OF_MODEL = {kind.model: kind for kind in KINDS}
# The kinds the search shows (an expectation in consultation is a consultation), in the page's order.
KIND_LABELS = {}
for _kind in KINDS:
    KIND_LABELS[_kind.name] = _kind.label
    if _kind.model is Expectation:
        KIND_LABELS["consultation"] = "Consultations"
KIND_MODEL = {kind.name: kind.model for kind in KINDS} | {"consultation": Expectation}


def _workstreams():
    return Workstream.all_objects.all()


def _expectations():
    return Expectation.all_objects.all()


def _appointments():
    return Appointment.all_objects.all()


# Whose documents name a record: when its title changes, theirs are written again.
DEPENDENTS = {
    Programme: [
        (Workstream, _ids(_workstreams, "programme")),
        (Expectation, _ids(_expectations, "programme")),
        (Appointment, _ids(_appointments, "programme")),
    ],
    Region: [
        (Workstream, _ids(_workstreams, "regions")),
        (Expectation, _ids(_expectations, "region")),
        (Appointment, _ids(_appointments, "region")),
        (Person, lambda ids: Person.all_objects.filter(appointments__region__in=ids).values_list("pk", flat=True)),
        (Organisation, _ids(lambda: Organisation.objects.all(), "region")),
        (LocalHealthSystem, _ids(lambda: LocalHealthSystem.objects.all(), "region")),
    ],
    LocalHealthSystem: [(Organisation, _ids(lambda: Organisation.objects.all(), "local_system"))],
    Measure: [(Expectation, _ids(_expectations, "measure"))],
    Person: [(Appointment, _ids(_appointments, "person"))],
    Appointment: [(Person, lambda ids: Person.all_objects.filter(appointments__in=ids).values_list("pk", flat=True))],
}
# Records that are not found themselves but whose change alters others' documents.
PARTS = {
    NationalBody: [
        (Programme, lambda ids: Programme.all_objects.filter(bodies__in=ids).values_list("pk", flat=True)),
        (Workstream, _ids(_workstreams, "body")),
        (Expectation, _ids(_expectations, "issued_by")),
    ],
    AppointmentShare: [
        (Appointment, lambda ids: AppointmentShare.objects.filter(pk__in=ids).values_list("appointment", flat=True))
    ],
}

UPSERT = """
INSERT INTO search_searchdocument (source, record_id, kind, key, title, code, belongs_to, text, archived, vector)
SELECT d.source, d.record_id, d.kind, d.key, d.title, d.code, d.belongs_to, d.text, d.archived,
       setweight(to_tsvector('english'::regconfig, d.a), 'A')
       || setweight(to_tsvector('english'::regconfig, d.b), 'B')
       || setweight(to_tsvector('english'::regconfig, d.c), 'C')
FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::boolean[], %s::text[], %s::text[], %s::text[])
     AS d(source, record_id, kind, key, title, code, belongs_to, text, archived, a, b, c)
ON CONFLICT (source, record_id) DO UPDATE SET
    kind = EXCLUDED.kind, key = EXCLUDED.key, title = EXCLUDED.title, code = EXCLUDED.code,
    belongs_to = EXCLUDED.belongs_to, text = EXCLUDED.text, archived = EXCLUDED.archived, vector = EXCLUDED.vector
"""
WORDS = "INSERT INTO search_searchword (word) SELECT DISTINCT unnest(%s::text[]) ON CONFLICT DO NOTHING"


def _write(kind, records, cursor):
    """Writes the documents of ``records`` (of one kind) and their titles' words."""
    columns = [[] for _ in range(12)]
    words = set()
    for record in records:
        document = kind.document(record)
        belongs = " · ".join(dict.fromkeys(document.belongs_to))
        row = (
            kind.source,
            record.pk,
            document.kind or kind.name,
            kind.key_of(record),
            document.title[:500],
            document.code[:100],
            belongs,
            document.text,
            document.archived,
            index_text(f"{document.title} {document.code}"),
            index_text(belongs),
            index_text(document.text),
        )
        for column, value in zip(columns, row):
            column.append(value)
        words.update(title_words(document.title))
    if columns[0]:
        cursor.execute(UPSERT, columns)
        cursor.execute(WORDS, [sorted(words)])


def refresh(model, ids, depth=0):
    """Writes again the documents of the records of ``model`` with these ids (removing those of records
    that are gone), then those of the records that name one whose title changed or that was archived or
    restored (a workstream's document is archived with its programme's: the live list reads that flag)."""
    ids = list(ids)
    kind = KIND_OF_MODEL.get(model)
    if not ids:
        return
    if kind is None:
        for dependent, pointing in PARTS.get(model, ()):
            refresh(dependent, pointing(ids), depth)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT record_id, title, archived FROM search_searchdocument WHERE source = %s AND record_id = ANY(%s)",
            [kind.source, ids],
        )
        before = {pk: (title, archived) for pk, title, archived in cursor.fetchall()}
        records = list(kind.queryset().filter(pk__in=ids))
        found = {record.pk for record in records}
        gone = [pk for pk in ids if pk not in found]
        if gone:
            cursor.execute(
                "DELETE FROM search_searchdocument WHERE source = %s AND record_id = ANY(%s)", [kind.source, gone]
            )
        _write(kind, records, cursor)
    documents = {r.pk: kind.document(r) for r in records}
    changed = [pk for pk, document in documents.items() if before.get(pk) != (document.title, document.archived)]
    if changed and depth < 2:
        for dependent, pointing in DEPENDENTS.get(model, ()):
            refresh(dependent, pointing(changed), depth + 1)


def refresh_findings():
    """The findings' documents are those of the latest successful run of each kind (as the findings list),
    written BATCH at a time: a run may have hundreds of thousands."""
    kind = KIND_OF_MODEL[Finding]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_searchdocument WHERE source = %s", [kind.source])
        batch = []
        for record in kind.queryset().iterator(chunk_size=BATCH):
            batch.append(record)
            if len(batch) == BATCH:
                _write(kind, batch, cursor)
                batch = []
        _write(kind, batch, cursor)


def rebuild():
    """Every document written again, in one transaction: what the signals cannot see (bulk writes) is caught up."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_searchdocument")
        cursor.execute("DELETE FROM search_searchword")
        counts = {}
        for kind in KINDS:
            records = kind.queryset().order_by("pk").iterator(chunk_size=BATCH)
            batch, counts[kind.name] = [], 0
            for record in records:
                batch.append(record)
                if len(batch) == BATCH:
                    _write(kind, batch, cursor)
                    counts[kind.name] += len(batch)
                    batch = []
            _write(kind, batch, cursor)
            counts[kind.name] += len(batch)
        # Rows written in bulk wait in each GIN index's pending list, which every search would read through
        # (a rare word took 15 ms, not 0.1) until autovacuum merged it: merged now.
        cursor.execute(
            "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE a.amname = 'gin' AND i.indrelid IN ('search_searchdocument'::regclass, 'search_searchword'::regclass)"
        )
        cursor.execute("ANALYZE search_searchdocument")
        cursor.execute("ANALYZE search_searchword")
    return counts


def _saved(sender, instance, raw=False, **kwargs):
    if raw:
        return  # a fixture being loaded: rebuild_search catches up
    if sender is ReportRun:
        if instance.status == ReportRun.Status.SUCCEEDED:
            refresh_findings()
        return
    bulk.later(refresh, sender, instance.pk)


def _deleted(sender, instance, **kwargs):
    kind = KIND_OF_MODEL.get(sender)
    if kind is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_searchdocument WHERE source = %s AND record_id = %s", [kind.source, instance.pk]
            )
    elif sender is AppointmentShare:  # gone: its appointment is found by the bodies that still share it
        refresh(Appointment, [instance.appointment_id])
    elif sender in PARTS:
        refresh(sender, [instance.pk])


def _m2m_changed(sender, instance, action, model, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if isinstance(instance, (Workstream, Programme)):
        bulk.later(refresh, type(instance), instance.pk)
    elif pk_set:  # changed from the other end (a region's workstreams)
        bulk.later(refresh, Workstream if sender is Workstream.regions.through else Programme, *pk_set)


def connect_signals():
    for model in [*KIND_OF_MODEL, *PARTS, ReportRun]:
        if model is Finding:
            continue  # written in bulk by a run; its run's success writes them
        post_save.connect(_saved, sender=model, dispatch_uid=f"search-save-{model._meta.label_lower}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"search-delete-{model._meta.label_lower}")
    for through in (Workstream.regions.through, Programme.bodies.through):
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"search-m2m-{through._meta.label_lower}")
