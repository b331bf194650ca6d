"""Reference data: the bodies, their duties, the regions, the local health systems and the measures; ODS files.

Everything reads the project's own copies under data/ (see data/README.md).
Loading is idempotent: a record is saved only when a field differs, so a second
run writes nothing and adds no history.
"""

import csv
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from nhs_joint.imports import RefusedFile
from nhs_joint.registry import registry
from nhs_joint.words import count
from regions.models import LocalHealthSystem, LocalOffice, Region

from .models import NationalBody, Organisation, StatutoryDuty

DATA = Path(settings.BASE_DIR) / "data"

BODIES = [
    {"code": "NHSE", "name": "NHS England", "ods_code": "X24"},
    {"code": "NHSI", "name": "NHS Improvement", "ods_code": ""},
]


@dataclass
class Tally:
    """What a load did, per kind of record."""

    counts: dict = field(default_factory=lambda: Counter())

    def add(self, kind, outcome):
        self.counts[(kind, outcome)] += 1

    def get(self, kind, outcome):
        return self.counts[(kind, outcome)]

    def lines(self):
        kinds = list(dict.fromkeys(kind for kind, _ in self.counts))
        return [
            f"{kind}: {self.get(kind, 'created')} created, {self.get(kind, 'updated')} updated, "
            f"{self.get(kind, 'unchanged')} unchanged"
            for kind in kinds
        ]


def put_record(model, lookup, values, create_only=False):
    """Create or update one record by its natural key, saving only when something differs.

    Returns (the record, "created", "updated" or "unchanged", the names of the fields changed).
    ``create_only`` is for records people edit in the portal: an existing one is never changed.
    Archived records count as existing: they are never made again.
    """
    obj = model._base_manager.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), "created", []
    if create_only:
        return obj, "unchanged", []
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, "unchanged", []
    for name in changed:
        setattr(obj, name, values[name])
    obj.save()  # a whole save: models such as Programme keep a version on every save
    return obj, "updated", changed


def upsert(model, lookup, values, tally, kind, create_only=False):
    """``put_record``, counted in ``tally`` under ``kind``; returns the record."""
    obj, outcome, _changed = put_record(model, lookup, values, create_only)
    tally.add(kind, outcome)
    return obj


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def partial_date(text):
    """'2018' → 1 January 2018; '2019-04' → 1 April 2019; '2012-10-01' as it is; '' → None."""
    text = (text or "").strip()
    if not text:
        return None
    parts = [int(p) for p in text.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


JOINT_REGIONS = {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}


def load_reference(data=DATA):
    """Load the reference data in one transaction; returns a Tally of what changed.

    The bodies and their duties, the regions and the STPs are loaded here; the apps built on them add
    their own reference data through ``registry.reference_loaders`` (the measures, from programmes).
    """
    tally = Tally()
    with transaction.atomic():
        bodies = {}
        for body in BODIES:
            bodies[body["code"]] = upsert(
                NationalBody,
                {"code": body["code"]},
                {"name": body["name"], "ods_code": body["ods_code"]},
                tally,
                "bodies",
            )
        for row in read_csv(data / "seed" / "duties.csv"):
            upsert(
                StatutoryDuty,
                {"slug": row["slug"]},
                {
                    "body": bodies[row["body"]],
                    "title": row["title"],
                    "legal_basis": row["legal_basis"],
                    "summary": row["summary"],
                },
                tally,
                "statutory duties",
            )
        regions = {}
        for row in read_csv(data / "ods" / "regions.csv"):
            code = row["ods_code"].strip()
            regions[code] = upsert(
                Region,
                {"ods_code": code},
                {
                    "name": row["ods_name"].strip().title().replace(" And ", " and ").replace(" Of ", " of "),
                    "short_name": row["short_name"].strip(),
                    "slug": slugify(row["short_name"]),
                    "ons_code": row["ons_code"].strip(),
                    "active": code in JOINT_REGIONS,
                    "effective_from": partial_date(row["effective_from"]),
                    "effective_to": partial_date(row["effective_to"]),
                    "notes": row["notes"].strip(),
                },
                tally,
                "regions",
            )
        for row in read_csv(data / "ods" / "stps.csv"):
            upsert(
                LocalHealthSystem,
                {"ods_code": row["stp_ods_code"].strip()},
                {
                    "ons_code": row["stp_ons_code"].strip(),
                    "name": row["stp_name"].strip().removesuffix(" (STP)"),
                    "region": regions[row["region_code"].strip()],
                },
                tally,
                "local health systems",
            )
        # What other apps load on top (the measures: measures/reference.py), in the same transaction.
        for loader in registry.reference_loaders:
            loader(data, tally)
    return tally


# ODS organisation files ---------------------------------------------------------------------------
#
# An ODS file is recognised before it is read line by line: its first line must not be a header of
# another layout, most of its lines must have the ODS field count, and its organisation codes must be
# of the kind asked for. A file that fails is refused with one message that says what it looks like;
# a file that passes has each bad line named by line and field. Nothing is written from a refused file.

ODS_FIELDS = {
    1: "organisation code",
    2: "name",
    3: "national grouping",
    4: "high level health geography",
    10: "postcode",
    11: "open date",
    12: "close date",
    14: "sub-type",
}
ACCEPTED_FIELD_COUNTS = (27, 24)
LAYOUT = "no header row and 27 fields (24 in older releases)"
CODE = re.compile(r"^[A-Z0-9]{3,6}$")
GROUPING = re.compile(r"^[A-Z0-9]{3}$")
ROLE_CODES = re.compile(r"^RO\d+(\|RO\d+)*$")  # the ODS role codes of a CCG file's sub-type field
MAX_ERRORS_SHOWN = 20
KINDS = ("trusts", "ccgs", "regions")


@dataclass(frozen=True)
class CodeKind:
    """What the organisation codes of one kind of ODS file look like."""

    file: str  # what a file of these codes is
    codes: str  # the codes, in words
    pattern: re.Pattern


# ODS code conventions: NHS trusts are R.. (care trusts T..), their sites R.... ; CCGs two digits and a
# letter (00C, 99A), later sub-ICB codes letter-digit-letter-digit-letter; NHS England's regions Y..
# and its local offices and area teams Q followed by two digits; STPs Q and two more characters with a
# letter (QOP, QE1); GP practices a letter and five digits.
CODE_KINDS = {
    "trusts": CodeKind("an ODS NHS trust file (etr)", "NHS trust codes, R.. or T..", re.compile(r"^[RT][A-Z0-9]{2}$")),
    "ccgs": CodeKind(
        "an ODS CCG file (eccg)",
        "CCG codes, two digits and a letter such as 00C or 99A",
        re.compile(r"^(\d{2}[A-Z]|[A-Z]\d[A-Z]\d[A-Z])$"),
    ),
    "regions": CodeKind(
        "an ODS regions and local offices file (eauth)",
        "region and local office codes, Y.. or Q and two digits",
        re.compile(r"^(Y\d{2}|Q\d{2})$"),
    ),
    "trust sites": CodeKind("an ODS trust sites file (ets)", "trust site codes", re.compile(r"^[RT][A-Z0-9]{4}$")),
    "stps": CodeKind("a file of STPs or ICBs", "STP codes", re.compile(r"^Q(?=[0-9]*[A-Z])[A-Z0-9]{2}$")),
    "gp practices": CodeKind("an ODS GP practice file (epraccur)", "GP practice codes", re.compile(r"^[A-Z]\d{5}$")),
}
ASKED = {"trusts": "trusts", "ccgs": "CCGs", "regions": "regions and local offices"}

# Words an ODS name keeps in capitals, or in lower case, when it is made readable.
UPPER_WORDS = {"NHS", "CCG", "UK", "II", "III", "GP", "ICB"}
LOWER_WORDS = {"and", "of", "the", "for", "on", "in", "upon", "with", "at"}


class OdsFileError(RefusedFile):
    """An ODS file that is refused whole; ``errors`` names the file, line and field of each problem."""

    max_shown = MAX_ERRORS_SHOWN


@dataclass
class OdsRow:
    line: int
    code: str
    name: str
    region_code: str
    geography_code: str
    postcode: str
    opened: dt.date | None
    closed: dt.date | None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    with_region: int = 0
    with_local_system: int = 0

    def __str__(self):
        return (
            f"{count(self.created, 'organisation')} created, {self.updated:,} updated, {self.unchanged:,} unchanged; "
            f"{self.with_region} linked to a region, {self.with_local_system} to a local health system."
        )


@dataclass
class RegionsImportResult:
    regions_created: int = 0
    regions_kept: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self):
        return (
            f"{count(self.regions_created, 'region')} created, {self.regions_kept:,} already known and kept as they are; "
            f"{self.created:,} local offices and area teams created, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged."
        )


def readable_name(name):
    """'MANCHESTER UNIVERSITY NHS FOUNDATION TRUST' → 'Manchester University NHS Foundation Trust'."""
    words = []
    for index, word in enumerate(name.split()):
        if word in UPPER_WORDS:
            words.append(word)
        elif index and word.lower() in LOWER_WORDS:
            words.append(word.lower())
        else:
            words.append("-".join(part.capitalize() for part in word.split("-")).replace("'S", "'s"))
    return " ".join(words)


def _date(text, where, number, errors):
    if not text:
        return None
    if re.fullmatch(r"\d{8}", text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    errors.append(f"{where}, field {number} ({ODS_FIELDS[number]}): “{text}” is not a date in the form YYYYMMDD.")
    return None


def _read_records(path):
    """The file's non-empty lines as (line number, cells), or OdsFileError if it cannot be read as CSV text."""
    name = Path(path).name
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return [
                (line, record)
                for line, record in enumerate(csv.reader(stream), start=1)
                if record and not (len(record) == 1 and not record[0].strip())
            ]
    except FileNotFoundError:
        raise OdsFileError([f"{name}: no such file."]) from None
    except IsADirectoryError:
        raise OdsFileError([f"{name}: is a folder, not a file."]) from None
    except UnicodeDecodeError:
        raise OdsFileError([f"{name}: the file is not UTF-8 text."]) from None
    except csv.Error as exc:
        raise OdsFileError([f"{name}: the file is not valid CSV ({exc})."]) from None


def _shown(cells, limit=4):
    named = ", ".join(f"“{cell.strip()}”" for cell in cells[:limit])
    return named + (", …" if len(cells) > limit else "")


def _is_header(cells):
    """An ODS organisation code has no lower-case letter, space or underscore, a column name usually has;
    and a line of organisation data has an open date (YYYYMMDD), a line of column names none."""
    first = cells[0].strip()
    if CODE.match(first) or any(re.fullmatch(r"\d{8}", cell.strip()) for cell in cells):
        return False
    return bool(re.search(r"[a-z _]", first)) or first.upper() in {"CODE", "ORGANISATIONCODE"}


def _recognise(records, name, kind):
    """Refuse, with one message, a file whose header, field counts or codes are not those of ``kind``.

    Returns the records to read line by line (without an ODS header row, which is accepted).
    """
    expected = f"an ODS file of {ASKED[kind]}, which has {LAYOUT}"
    line, first = records[0]
    if _is_header(first):
        if len(first) in ACCEPTED_FIELD_COUNTS and "code" in first[0].lower() and "name" in first[1].lower():
            records = records[1:]  # the ODS layout with its column names: the same fields
            if not records:
                raise OdsFileError([f"{name}: the file has a header row and no organisations."])
        else:
            raise OdsFileError(
                [f"{name}, line {line}: a header row with {len(first)} columns ({_shown(first)}): not {expected}."]
            )
    counts = Counter(len(cells) for _, cells in records)
    if not any(count in ACCEPTED_FIELD_COUNTS for count in counts):
        line, cells = records[0]
        if len(records) == 1:
            raise OdsFileError([f"{name}, line {line}: {len(cells)} fields, expected 27 (or 24 in older releases)."])
        usual, times = counts.most_common(1)[0]
        raise OdsFileError(
            [
                f"{name}, line {line}: {len(cells)} fields, and no line has 27 or 24 "
                f"({times} of the {len(records)} lines have {usual}): not {expected}."
            ]
        )
    laid_out = [(line, cells) for line, cells in records if len(cells) in ACCEPTED_FIELD_COUNTS]
    codes = [(line, cells[0].strip()) for line, cells in laid_out]
    matching = {
        key: [(line, code) for line, code in codes if kind_.pattern.match(code)] for key, kind_ in CODE_KINDS.items()
    }
    with_roles = [(line, cells[13].strip()) for line, cells in laid_out if ROLE_CODES.match(cells[13].strip())]
    looks_like, evidence = None, ""
    if len(matching[kind]) * 2 <= len(codes):
        # Most codes are not of the kind asked for: say what the file is, by its codes, or else by the
        # sub-type (an ODS role) that only CCG files have in field 14.
        best = max(matching, key=lambda key: len(matching[key]))
        if len(matching[best]) * 2 > len(codes):
            looks_like = best
            ((line, code),) = matching[best][:1]
            evidence = (
                f"{len(matching[best])} of its {len(codes)} codes are {CODE_KINDS[best].codes}: "
                f"line {line}, field 1 (organisation code) “{code}”"
            )
        elif kind != "ccgs" and len(with_roles) * 2 > len(laid_out):
            looks_like = "ccgs"
            ((line, role),) = with_roles[:1]
            evidence = (
                f"{len(with_roles)} of its {len(laid_out)} lines have an ODS role in field 14 (sub-type), as CCG "
                f"files do: line {line}, field 14 “{role}”"
            )
        else:
            looks_like = ""
    if looks_like:
        advice = (
            f"import it with --kind {looks_like}" if looks_like in KINDS else "the portal does not import such files"
        )
        raise OdsFileError(
            [f"{name}: this looks like {CODE_KINDS[looks_like].file}, not {ASKED[kind]} ({evidence}); {advice}."]
        )
    if looks_like == "":
        ((line, code),) = codes[:1]
        raise OdsFileError(
            [
                f"{name}: this does not look like {CODE_KINDS[kind].file}: {len(matching[kind])} of its {len(codes)} codes "
                f"are {CODE_KINDS[kind].codes} (line {line}, field 1 (organisation code): “{code}”)."
            ]
        )
    return records


# The longest name and postcode an organisation (or region) keeps: a longer one is a damaged or wrong file.
NAME_LENGTH = min(Organisation._meta.get_field("name").max_length, Region._meta.get_field("name").max_length)
POSTCODE_LENGTH = Organisation._meta.get_field("postcode").max_length


def read_ods(path, kind="trusts"):
    """Recognise an ODS file as ``kind``, then check every line; return its rows, or raise OdsFileError."""
    path = Path(path)
    name = path.name
    records = _read_records(path)
    if not records:
        raise OdsFileError([f"{name}: the file has no organisations."])
    records = _recognise(records, name, kind)
    errors, rows, seen = [], [], {}
    code_kind = CODE_KINDS[kind]
    for line, record in records:
        where = f"{name}, line {line}"
        if len(record) not in ACCEPTED_FIELD_COUNTS:
            errors.append(f"{where}: {len(record)} fields, expected 27 (or 24 in older releases).")
            continue
        cells = [cell.strip() for cell in record]
        before = len(errors)
        damaged = [number for number, cell in enumerate(cells, start=1) if "\x00" in cell]
        if damaged:
            # PostgreSQL cannot store a NUL character: the line is named rather than the import failing.
            errors.append(
                f"{where}, field {damaged[0]} ({ODS_FIELDS.get(damaged[0], 'field')}): it contains a NUL "
                "character: the file is damaged or is not text."
            )
            continue
        code, org_name, region_code, geography = cells[0], cells[1], cells[2], cells[3]
        for number, value, limit in ((2, org_name, NAME_LENGTH), (10, cells[9], POSTCODE_LENGTH)):
            if len(value) > limit:
                errors.append(
                    f"{where}, field {number} ({ODS_FIELDS.get(number, 'field')}): {len(value)} characters, "
                    f"longer than the {limit} the portal keeps."
                )
        if not CODE.match(code):
            errors.append(f"{where}, field 1 (organisation code): “{code}” is not an ODS organisation code.")
        elif not code_kind.pattern.match(code):
            other = next((k.codes for k in CODE_KINDS.values() if k.pattern.match(code)), None)
            errors.append(
                f"{where}, field 1 (organisation code): “{code}” is not one of the {code_kind.codes}"
                + (f"; it looks like one of the {other}." if other else ".")
            )
        if not org_name:
            errors.append(f"{where}, field 2 (name): the name is empty.")
        if region_code and not GROUPING.match(region_code):
            errors.append(f"{where}, field 3 (national grouping): “{region_code}” is not an ODS code.")
        if geography and not GROUPING.match(geography):
            errors.append(f"{where}, field 4 (high level health geography): “{geography}” is not an ODS code.")
        if kind == "ccgs" and cells[13] and not ROLE_CODES.match(cells[13]):
            errors.append(f"{where}, field 14 (sub-type): “{cells[13]}” is not an ODS role code such as RO98.")
        opened = _date(cells[10], where, 11, errors)
        closed = _date(cells[11], where, 12, errors)
        if opened and closed and closed < opened:
            errors.append(f"{where}, field 12 (close date): {closed:%Y%m%d} is before the open date {opened:%Y%m%d}.")
        if code in seen:
            errors.append(f"{where}, field 1 (organisation code): {code} is also on line {seen[code]}.")
        if len(errors) > before:
            continue
        seen[code] = line
        rows.append(OdsRow(line, code, org_name, region_code, geography, cells[9], opened, closed))
    if errors:
        raise OdsFileError(errors)
    return rows


def kind_of(row, kind):
    if kind == "ccgs":
        return Organisation.Kind.CCG
    if "FOUNDATION TRUST" in row.name.upper():
        return Organisation.Kind.FOUNDATION_TRUST
    return Organisation.Kind.NHS_TRUST


def import_ods(path, kind):
    """Import a whole ODS file (trusts, CCGs, or regions and local offices); nothing is written from a bad file."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    rows = read_ods(path, kind)
    if kind == "regions":
        return _import_regions(rows, Path(path).name)
    regions = {r.ods_code: r for r in Region.objects.all()}
    systems = {s.ods_code: s for s in LocalHealthSystem.objects.all()}
    # Older files name an NHS England local office or area team in field 4 (and sometimes no region in
    # field 3): the office's region, known from the eauth file, stands in for the missing one.
    offices = {o.ods_code: o.region for o in LocalOffice.objects.select_related("region")}
    result = ImportResult()
    with transaction.atomic():
        existing = {
            o.ods_code: o for o in Organisation.objects.select_for_update().filter(ods_code__in=[r.code for r in rows])
        }
        for row in rows:
            region = regions.get(row.region_code) or offices.get(row.geography_code)
            system = systems.get(row.geography_code)
            if system is not None and region is not None and system.region_id != region.pk:
                system = None  # the file's region wins; a system of another region is not linked
            values = {
                "name": readable_name(row.name),
                "kind": kind_of(row, kind),
                "region": region,
                "local_system": system,
                "postcode": row.postcode,
                "opened": row.opened,
                "closed": row.closed,
            }
            result.with_region += region is not None
            result.with_local_system += system is not None
            obj = existing.get(row.code)
            if obj is None:
                Organisation.objects.create(ods_code=row.code, **values)
                result.created += 1
                continue
            changed = [
                name
                for name, value in values.items()
                if getattr(obj, f"{name}_id" if name in ("region", "local_system") else name)
                != (value.pk if name in ("region", "local_system") and value is not None else value)
            ]
            if changed:
                for name in changed:
                    setattr(obj, name, values[name])
                obj.save(update_fields=changed)
                result.updated += 1
            else:
                result.unchanged += 1
    return result


def _unique_slug(name, code, taken):
    slug = slugify(name) or code.lower()
    return slug if slug not in taken else f"{slug}-{code.lower()}"


def _import_regions(rows, name):
    """NHS England's regions and local offices (eauth): each local office or area team with its region.

    A region the portal already has (from load_reference) is kept as it is: regions.csv is the curated
    list, with short names and ONS codes. A region code it does not have is added, inactive unless it is
    one of the seven joint regions, for older files. Every local office names its region in field 3.
    """
    known = {r.ods_code: r for r in Region.objects.all()}
    in_file = {row.code for row in rows if row.code.startswith("Y")}
    errors = []
    for row in rows:
        if row.code.startswith("Q") and row.region_code not in known and row.region_code not in in_file:
            errors.append(
                f"{name}, line {row.line}, field 3 (national grouping): "
                + (
                    f"“{row.region_code}” is not a region the portal knows nor one in this file."
                    if row.region_code
                    else "the local office names no region."
                )
            )
    if errors:
        raise OdsFileError(errors)
    result = RegionsImportResult()
    with transaction.atomic():
        taken = set(Region.objects.values_list("slug", flat=True))
        for row in rows:
            if not row.code.startswith("Y"):
                continue
            if row.code in known:
                result.regions_kept += 1
                continue
            readable = readable_name(row.name)
            slug = _unique_slug(readable, row.code, taken)
            taken.add(slug)
            known[row.code] = Region.objects.create(
                ods_code=row.code,
                name=readable,
                slug=slug,
                active=row.code in JOINT_REGIONS,
                effective_from=row.opened,
                effective_to=row.closed,
                notes=f"from the ODS file {name}",
            )
            result.regions_created += 1
        existing = {
            o.ods_code: o for o in LocalOffice.objects.select_for_update().filter(ods_code__in=[r.code for r in rows])
        }
        for row in rows:
            if not row.code.startswith("Q"):
                continue
            values = {
                "name": readable_name(row.name),
                "region": known[row.region_code],
                "opened": row.opened,
                "closed": row.closed,
            }
            obj = existing.get(row.code)
            if obj is None:
                LocalOffice.objects.create(ods_code=row.code, **values)
                result.created += 1
                continue
            changed = [
                field
                for field, value in values.items()
                if (obj.region_id != value.pk if field == "region" else getattr(obj, field) != value)
            ]
            if changed:
                for field in changed:
                    setattr(obj, field, values[field])
                obj.save(update_fields=changed)
                result.updated += 1
            else:
                result.unchanged += 1
    return result
