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
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from nhs_joint.imports import RefusedFile
from programmes.models import Measure
from regions.models import LocalHealthSystem, Region

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


def upsert(model, lookup, values, tally, kind, create_only=False):
    """Create or update one record by its natural key, saving only when something differs.

    ``create_only`` is for records people edit in the portal: an existing one is never changed.
    """
    obj = model._base_manager.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        tally.add(kind, "created")
        return obj
    if create_only:
        tally.add(kind, "unchanged")
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save()  # a whole save: models such as Programme keep a version on every save
        tally.add(kind, "updated")
    else:
        tally.add(kind, "unchanged")
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
    """Load the reference data in one transaction; returns a Tally of what changed."""
    tally = Tally()
    with transaction.atomic():
        bodies = {}
        for body in BODIES:
            bodies[body["code"]] = upsert(
                NationalBody, {"code": body["code"]}, {"name": body["name"], "ods_code": body["ods_code"]},
                tally, "bodies",
            )
        for row in read_csv(data / "seed" / "duties.csv"):
            upsert(
                StatutoryDuty, {"slug": row["slug"]},
                {"body": bodies[row["body"]], "title": row["title"], "legal_basis": row["legal_basis"],
                 "summary": row["summary"]},
                tally, "statutory duties",
            )
        regions = {}
        for row in read_csv(data / "ods" / "regions.csv"):
            code = row["ods_code"].strip()
            regions[code] = upsert(
                Region, {"ods_code": code},
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
                tally, "regions",
            )
        for row in read_csv(data / "ods" / "stps.csv"):
            upsert(
                LocalHealthSystem, {"ods_code": row["stp_ods_code"].strip()},
                {
                    "ons_code": row["stp_ons_code"].strip(),
                    "name": row["stp_name"].strip().removesuffix(" (STP)"),
                    "region": regions[row["region_code"].strip()],
                },
                tally, "local health systems",
            )
        for row in read_csv(data / "seed" / "measures.csv"):
            upsert(
                Measure, {"code": row["code"]},
                {
                    "name": row["name"], "unit": row["unit"], "direction": row["direction"],
                    "standard": Decimal(row["standard"]) if row["standard"] else None,
                    "comparator": row["comparator"],
                },
                tally, "measures", create_only=True,  # staff keep measures up to date in the portal
            )
    return tally


# ODS organisation files ---------------------------------------------------------------------------

ODS_FIELDS = {
    1: "organisation code", 2: "name", 3: "national grouping", 4: "high level health geography",
    10: "postcode", 11: "open date", 12: "close date",
}
ACCEPTED_FIELD_COUNTS = (27, 24)
CODE = re.compile(r"^[A-Z0-9]{3,6}$")
GROUPING = re.compile(r"^[A-Z0-9]{3}$")
MAX_ERRORS_SHOWN = 20
KINDS = ("trusts", "ccgs")

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
            f"{self.created} organisations created, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.with_region} linked to a region, {self.with_local_system} to a local health system."
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


def read_ods(path):
    """Check every line of an ODS file; return its rows, or raise OdsFileError naming every bad line."""
    path = Path(path)
    name = path.name
    errors, rows, seen = [], [], {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            for line, record in enumerate(csv.reader(stream), start=1):
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                where = f"{name}, line {line}"
                if len(record) not in ACCEPTED_FIELD_COUNTS:
                    errors.append(f"{where}: {len(record)} fields, expected 27 (or 24 in older releases).")
                    continue
                cells = [cell.strip() for cell in record]
                before = len(errors)
                code, org_name, region_code, geography = cells[0], cells[1], cells[2], cells[3]
                if not CODE.match(code):
                    errors.append(f"{where}, field 1 (organisation code): “{code}” is not an ODS organisation code.")
                if not org_name:
                    errors.append(f"{where}, field 2 (name): the name is empty.")
                if region_code and not GROUPING.match(region_code):
                    errors.append(f"{where}, field 3 (national grouping): “{region_code}” is not an ODS code.")
                if geography and not GROUPING.match(geography):
                    errors.append(f"{where}, field 4 (high level health geography): “{geography}” is not an ODS code.")
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
    except FileNotFoundError:
        raise OdsFileError([f"{name}: no such file."]) from None
    except UnicodeDecodeError:
        raise OdsFileError([f"{name}: the file is not UTF-8 text."]) from None
    except csv.Error as exc:
        raise OdsFileError([f"{name}: the file is not valid CSV ({exc})."]) from None
    if errors:
        raise OdsFileError(errors)
    if not rows:
        raise OdsFileError([f"{name}: the file has no organisations."])
    return rows


def kind_of(row, kind):
    if kind == "ccgs":
        return Organisation.Kind.CCG
    if "FOUNDATION TRUST" in row.name.upper():
        return Organisation.Kind.FOUNDATION_TRUST
    return Organisation.Kind.NHS_TRUST


def import_ods(path, kind):
    """Import a whole ODS file of trusts or CCGs, upserting by ODS code; nothing is written from a bad file."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    rows = read_ods(path)
    regions = {r.ods_code: r for r in Region.objects.all()}
    systems = {s.ods_code: s for s in LocalHealthSystem.objects.all()}
    result = ImportResult()
    with transaction.atomic():
        existing = {o.ods_code: o for o in Organisation.objects.select_for_update().filter(ods_code__in=[r.code for r in rows])}
        for row in rows:
            region = regions.get(row.region_code)
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
                name for name, value in values.items()
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
