"""Measurements from a CSV file: every line checked first, then all written or none.

The file has a header row and four columns: ``measure`` (a measure code),
``region`` (a region's ODS code; empty or ``ENG`` for England), ``month``
(``YYYY-MM`` or the month's first day ``YYYY-MM-01``) and ``value``.
A measurement already held for the same measure, region and month takes the
file's value.
"""

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from jobs import services as jobs
from nhs_joint.imports import RefusedFile
from nhs_joint.words import count
from regions.models import Region

from . import statistics_import as statistics
from .models import Measure, Measurement

COLUMNS = ("measure", "region", "month", "value")
ENGLAND = {"", "ENG", "ENGLAND"}
MAX_ERRORS_SHOWN = 50


class MeasurementFileError(RefusedFile):
    """A file that cannot be imported; ``errors`` lists every problem found, each naming its line."""

    max_shown = MAX_ERRORS_SHOWN


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    measures: set = field(default_factory=set)

    def __str__(self):
        return f"{count(self.created, 'measurement')} added, {self.updated:,} updated, {self.unchanged:,} unchanged."


def template_rows(today=None):
    """The rows of the template file the import page offers: the header the importer reads (``COLUMNS``)
    and one example line it accepts, made of a measure and a region that exist and last month."""
    today = today or dt.date.today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    measure = Measure.objects.order_by("code").first()
    region = Region.objects.active().order_by("ods_code").first()
    value = Decimal("0")
    if measure is not None and measure.standard is not None:
        value = measure.standard
    example = {
        "measure": measure.code if measure else "ae-4hr",
        "region": region.ods_code if region else "",
        "month": f"{month:%Y-%m}",
        "value": f"{value.normalize():f}",
    }
    return [list(COLUMNS), [example[column] for column in COLUMNS]]


def template_csv(today=None):
    """The template file as text: a header row and an example line, CSV-quoted where a value needs it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(template_rows(today))
    return out.getvalue()


def parse_month(text):
    text = text.strip()
    for pattern in ("%Y-%m", "%Y-%m-%d"):
        try:
            parsed = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if parsed.day != 1:
            raise ValueError("a month is given as YYYY-MM or as its first day, YYYY-MM-01")
        return parsed
    raise ValueError("a month is given as YYYY-MM, for example 2019-04")


def _text_lines(stream, errors, name):
    """The lines of ``stream`` (bytes or text) as text, each decoded on its own.

    A line that is not UTF-8 is named by its own number (decoding the file in blocks would blame the line a
    block starts on) and given to the CSV reader as an empty line, so that the lines after it keep their numbers.
    """
    for number, raw in enumerate(stream, start=1):
        if isinstance(raw, bytes):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(f"{name}: line {number}: {_describe(exc)}")
                yield "\n"
                continue
        elif number == 1:
            raw = raw.removeprefix("\ufeff")
        yield raw


def read_measurements(stream, name="the file"):
    """Check every line of ``stream`` (bytes or text); return the rows as (measure, region, month, value) tuples.

    Messages name the line of the file a problem is on, counting every line (a quoted value may span several).
    """
    errors = []
    reader = csv.reader(_text_lines(stream, errors, name))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise MeasurementFileError([f"{name}: line {reader.line_num or 1}: {_describe(exc)}"]) from None
    if errors:
        raise MeasurementFileError(errors)
    if header is None:
        raise MeasurementFileError(
            [f"{name} is empty: it needs a header row ({', '.join(COLUMNS)}) and then one line per month."]
        )
    columns = [column.strip().lower().removesuffix("_code") for column in header]
    if columns[: len(COLUMNS)] != list(COLUMNS) or any(columns[len(COLUMNS) :]):
        raise MeasurementFileError(
            [f"{name}: line 1: the header must be “{','.join(COLUMNS)}”, not “{','.join(header)}”."]
        )

    measures = {m.code: m for m in Measure.objects.all()}
    regions = {r.ods_code: r for r in Region.objects.all()}
    rows, seen = [], {}
    line = last = reader.line_num
    try:
        for record in reader:
            line, last = last + 1, reader.line_num  # the line the record starts on
            if not any(cell.strip() for cell in record):
                continue
            where = f"{name}: line {line}"
            if len(record) != len(COLUMNS):
                errors.append(f"{where}: {len(record)} fields, expected {len(COLUMNS)} ({', '.join(COLUMNS)}).")
                continue
            code, region_code, month_text, value_text = (cell.strip() for cell in record)
            problems = []
            measure = measures.get(code)
            if measure is None:
                problems.append(f"measure: no measure has the code “{code}”")
            region = None
            if region_code.upper() not in ENGLAND:
                region = regions.get(region_code.upper())
                if region is None:
                    problems.append(f"region: no region has the ODS code “{region_code}” (leave it empty for England)")
            try:
                month = parse_month(month_text)
            except ValueError as exc:
                month = None
                problems.append(f"month: “{month_text}” is not a month ({exc})")
            try:
                value = Decimal(value_text)
                if not value.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                value = None
                problems.append(f"value: “{value_text}” is not a number")
            if measure is not None and value is not None:
                try:
                    measure.check_value(value, "value")
                    Measurement._meta.get_field("value").clean(value, None)
                except ValidationError as exc:
                    problems.append("value: " + " ".join(_messages(exc)))
            if problems:
                errors.extend(f"{where}, {problem}." for problem in problems)
                continue
            key = (measure.pk, region.pk if region else None, month)
            if key in seen:
                errors.append(f"{where}: the same measure, region and month as line {seen[key]}.")
                continue
            seen[key] = line
            rows.append((measure, region, month, value))
    except csv.Error as exc:
        errors.append(f"{name}: line {reader.line_num}: {_describe(exc)}")
    if errors:
        raise MeasurementFileError(errors)
    if not rows:
        raise MeasurementFileError([f"{name} has a header but no measurements."])
    return rows


def import_measurements(stream, name="the file", user=None, source=Measurement.Source.IMPORTED):
    """Import a whole file, or nothing: raises MeasurementFileError naming every bad line."""
    rows = read_measurements(stream, name)
    try:
        return _write(rows, user, source, reason=_import_reason(name))
    except IntegrityError:
        # Someone saved one of these months while the file was being imported.
        raise MeasurementFileError(
            [
                f"{name}: some of these months were saved by someone else at the same moment; nothing was saved, try again."
            ]
        ) from None


def _import_reason(name):
    """The reason kept in each imported figure's history: the file it came from (the history keeps 100 characters)."""
    reason = f"Imported from {name}"
    return reason if len(reason) <= 100 else reason[:99] + "…"


def _write(rows, user, source, reason=None):
    result = ImportResult()
    with transaction.atomic():
        measure_ids = {measure.pk for measure, *_ in rows}
        months = {month for *_, month, _value in rows}
        existing = {
            (m.measure_id, m.region_id, m.month): m
            for m in Measurement.objects.select_for_update()
            .filter(measure_id__in=measure_ids, month__in=months)
            .order_by()
        }
        to_create, to_update = [], []
        for measure, region, month, value in rows:
            result.measures.add(measure.code)
            current = existing.get((measure.pk, region.pk if region else None, month))
            if current is None:
                to_create.append(Measurement(measure=measure, region=region, month=month, value=value, source=source))
            elif current.value != value:
                current.value, current.source = value, source
                to_update.append(current)
            else:
                result.unchanged += 1
        if to_create:
            bulk_create_with_history(
                to_create, Measurement, batch_size=1000, default_user=user, default_change_reason=reason
            )
        if to_update:
            bulk_update_with_history(
                to_update,
                Measurement,
                ["value", "source"],
                batch_size=1000,
                default_user=user,
                default_change_reason=reason,
            )
        result.created, result.updated = len(to_create), len(to_update)
    return result


def import_measurements_file(uploaded, user=None):
    """An uploaded file (bytes, UTF-8 with or without a byte order mark), read line by line: the portal's own
    layout, or a published statistics file (its header row says which; measures/statistics_import.py)."""
    uploaded.seek(0)
    head = uploaded.read(statistics.HEAD_BYTES)
    uploaded.seek(0)
    if statistics.is_published(head):
        return statistics.import_statistics([(uploaded.name, uploaded)], user=user)
    return import_measurements(uploaded, uploaded.name, user=user)


@jobs.runner("measurement-import")
def import_measurements_job(job, progress):
    """A measurements file too large to import within one request, imported by a worker: all of it, or nothing."""
    name = job.params.get("name", "the file")
    progress(5)
    stream = jobs.input_file(job)
    try:
        if statistics.is_published(stream.getvalue()[: statistics.HEAD_BYTES]):
            result = statistics.import_statistics([(name, stream)], user=job.owner)
            result = " ".join([str(result), *result.unknown_lines()[:5], *result.kept_figures()[:5]])
        else:
            result = import_measurements(stream, name, user=job.owner)
    except (MeasurementFileError, statistics.PublishedFileError) as exc:
        raise jobs.Refused(f"“{name}” was not imported; nothing was saved.", exc.errors) from None
    job.message = f"“{name}” imported: {result}"


def start_import_job(uploaded, user):
    """Hand a large uploaded file to a worker (raises jobs.JobCannotStart when none can be reached)."""
    uploaded.seek(0)
    return jobs.start(
        user,
        "measurement-import",
        jobs.Job.Kind.IMPORT,
        f"Import of {uploaded.name}"[:200],
        params={"name": uploaded.name},
        input_pieces=uploaded.chunks(),
    )


def _describe(exc):
    if isinstance(exc, UnicodeDecodeError):
        return "the file is not UTF-8 text (save it from the spreadsheet as “CSV UTF-8”)."
    return f"the file is not valid CSV ({exc})."


def _messages(exc):
    if hasattr(exc, "message_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)
