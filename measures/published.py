"""Statistics files as NHS England publishes them: one line per provider and month, columns known by their names.

A published layout (``PublishedLayout``) is declared once, in ``measures/layouts.py``: which column holds the
period, which the provider's ODS code, and which columns add up to each count (for A&E: the attendances of every
department type, and the attendances over 4 hours of every type). The measure's numerator and denominator are
sums and differences of those counts, so a figure above a provider is an exact sum of counts, never an average of
percentages. A layout may have several header versions (the publisher renames its columns now and then); a file
is recognised by the names in its header row, never by the columns' positions.

``read_published`` checks every line of a file and returns its providers' lines, or raises
``PublishedFileError`` naming the line and column of each problem. It reads text only: what a provider's ODS code
means (its region, its local health system) is decided by the import that uses it.
"""

import codecs
import csv
import datetime as dt
import re
from dataclasses import dataclass, field

from nhs_joint.dates import format_month
from nhs_joint.imports import RefusedFile

MAX_LINES = 20_000  # a month of England is about 300 lines; a file of several years' months stays well inside
MAX_COLUMNS = 200
MAX_CELL = 200  # characters: the longest published header is under 80
MAX_COUNT = 10**9  # no provider has a billion attendances in a month
MAX_ERRORS_SHOWN = 50

MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "JANUARY",
            "FEBRUARY",
            "MARCH",
            "APRIL",
            "MAY",
            "JUNE",
            "JULY",
            "AUGUST",
            "SEPTEMBER",
            "OCTOBER",
            "NOVEMBER",
            "DECEMBER",
        ),
        start=1,
    )
}
# "MSitAE-MARCH-2019" (the monthly situation report's period), "March 2019", "MAR-19" or "2019-03".
PERIOD_WORDS = re.compile(r"^(?:[A-Z]+-)?(?P<month>[A-Z]+)[-\s]+(?P<year>\d{4}|\d{2})$")
PERIOD_ISO = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})(?:-01)?$")
WHOLE_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?$")
TOTAL_WORDS = {"TOTAL", "ENGLAND TOTAL", "TOTAL ENGLAND"}
NOT_GIVEN = {"", "-", "–"}


def header_key(name):
    """A header name as compared: case, spacing and a byte order mark do not matter."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


class PublishedFileError(RefusedFile):
    """A published statistics file that cannot be imported; ``errors`` names the line and column of each problem."""

    max_shown = MAX_ERRORS_SHOWN


@dataclass(frozen=True)
class HeaderVersion:
    """One version of a layout's header row: for each count, the columns that add up to it, by name."""

    name: str
    counts: dict  # count name -> tuple of column names, summed

    def columns(self):
        return {column for columns in self.counts.values() for column in columns}


@dataclass(frozen=True)
class PublishedLayout:
    """What one published statistics file holds and how a measure's figure is made from it.

    ``numerator`` and ``denominator`` map count names to +1 or -1: the A&E 4-hour measure's numerator is the
    attendances less the attendances over 4 hours, its denominator the attendances, and its value
    ``scale × numerator / denominator``.
    """

    key: str  # as typed: ``import_statistics ae FILE``
    title: str
    publisher: str
    measure: str  # the code of the measure it gives figures of
    period: tuple  # names the period column may have
    organisation: tuple  # names the provider's ODS code column may have
    organisation_name: tuple
    parent: tuple  # the column naming the provider's region in the file (read only to recognise the total row)
    versions: tuple  # HeaderVersion, newest first
    numerator: dict
    denominator: dict
    scale: int = 100
    source: str = ""

    def figure(self, counts):
        """(numerator, denominator) of a provider's (or a sum of providers') counts."""
        numerator = sum(sign * counts[name] for name, sign in self.numerator.items())
        denominator = sum(sign * counts[name] for name, sign in self.denominator.items())
        return numerator, denominator


@dataclass
class ProviderLine:
    line: int
    month: dt.date
    ods_code: str
    name: str
    counts: dict
    numerator: int
    denominator: int


@dataclass
class PublishedFile:
    layout: PublishedLayout
    version: HeaderVersion
    name: str
    lines: list = field(default_factory=list)
    total_lines: list = field(default_factory=list)  # the line numbers of the file's own total rows (not imported)

    @property
    def months(self):
        return sorted({line.month for line in self.lines})


def recognise(header, layouts):
    """The (layout, version, column index by name) whose header version ``header`` carries, newest version first.

    Of the versions whose every column is in the header, the one with the most columns wins (a header with the
    booked appointments columns is read with them, not as the older version it also contains)."""
    keys = {}
    for index, name in enumerate(header):
        keys.setdefault(header_key(name), index)
    best = None
    for layout in layouts:
        required = (layout.period, layout.organisation)
        if not all(any(header_key(name) in keys for name in names) for names in required):
            continue
        for version in layout.versions:
            wanted = version.columns()
            if all(header_key(column) in keys for column in wanted) and (
                best is None or len(wanted) > len(best[1].columns())
            ):
                best = (layout, version)
    if best is None:
        return None
    return best[0], best[1], keys


def describe_headers(layouts):
    """The header names a file may carry, for the message about a header that is none of them."""
    parts = []
    for layout in layouts:
        for version in layout.versions:
            columns = [layout.period[0], layout.organisation[0], *sorted(version.columns())]
            parts.append(f"{layout.title} ({version.name}): {', '.join(columns)}")
    return "; ".join(parts)


def parse_period(text):
    """The first day of the month a period names: ``MSitAE-MARCH-2019``, ``March 2019``, ``MAR-19``, ``2019-03``."""
    cleaned = " ".join(text.split()).upper()
    match = PERIOD_ISO.match(cleaned)
    if match:
        year, month = int(match["year"]), int(match["month"])
    else:
        match = PERIOD_WORDS.match(cleaned)
        if not match:
            raise ValueError("a period is written like MSitAE-MARCH-2019, March 2019 or 2019-03")
        word = match["month"]
        month = MONTHS.get(word) or next(
            (n for name, n in MONTHS.items() if len(word) >= 3 and name.startswith(word)), 0
        )
        year = int(match["year"])
        year += 2000 if year < 100 else 0
        if not month:
            raise ValueError(f"“{match['month'].title()}” is not a month")
    if not 1 <= month <= 12 or not 1990 <= year <= 2100:
        raise ValueError("a period is written like MSitAE-MARCH-2019, March 2019 or 2019-03")
    return dt.date(year, month, 1)


def parse_count(text):
    """A whole number as published: ``1234``, ``1,234``, ``"1,234"``, ``1234.0``; empty or ``-`` is none (0)."""
    cleaned = text.strip().replace("\u00a0", "")
    if cleaned in NOT_GIVEN:
        return 0
    if not WHOLE_NUMBER.match(cleaned):
        raise ValueError(f"“{text.strip()[:40]}” is not a whole number")
    value = int(cleaned.split(".")[0].replace(",", ""))
    if value > MAX_COUNT:
        raise ValueError(f"{value:,} is more than {MAX_COUNT:,}")
    return value


def _text_lines(stream, errors, name):
    """Each line of ``stream`` (bytes or text) as text, decoded on its own so that a bad byte names its line."""
    for number, raw in enumerate(stream, start=1):
        if number > MAX_LINES:
            errors.append(f"{name}: more than {MAX_LINES:,} lines; split the file by month.")
            return
        if isinstance(raw, bytes):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    raw = raw.decode("cp1252")  # NHS England's older files were saved by Excel on Windows
                except UnicodeDecodeError:
                    errors.append(f"{name}: line {number}: the line is not text (save the file as CSV).")
                    yield "\n"
                    continue
        elif number == 1:
            raw = raw.removeprefix("\ufeff")
        yield raw


def read_header(stream, layouts, name="the file"):
    """(reader, layout, version, columns, errors) of a file whose header row is one of ``layouts``' versions."""
    errors = []
    reader = csv.reader(_text_lines(stream, errors, name))
    header = None
    try:
        for record in reader:  # blank lines before the header are skipped, as a spreadsheet leaves them
            if any(cell.strip() for cell in record):
                header = record
                break
    except csv.Error as exc:
        raise PublishedFileError([f"{name}: line {reader.line_num or 1}: the file is not valid CSV ({exc})."]) from None
    if errors:
        raise PublishedFileError(errors)
    if header is None:
        raise PublishedFileError([f"{name} is empty: it needs the published header row and one line per provider."])
    if len(header) > MAX_COLUMNS or any(len(cell) > MAX_CELL for cell in header):
        raise PublishedFileError([f"{name}: line {reader.line_num}: the header row is longer than a published one."])
    recognised = recognise(header, layouts)
    if recognised is None:
        raise PublishedFileError(
            [
                f"{name}: line {reader.line_num}: the header row is not one of a published file the portal reads; "
                f"it needs the columns {describe_headers(layouts)}."
            ]
        )
    return reader, *recognised, errors


@dataclass(frozen=True)
class _Columns:
    """Where a recognised file keeps each thing a provider's line is read from (column indexes, None if absent)."""

    period: int | None
    code: int | None
    name: int | None
    parent: int | None
    counts: dict  # count name -> [(column name, index)], summed

    @classmethod
    def of(cls, layout, version, keys):
        def column(names):
            return next((keys[header_key(n)] for n in names if header_key(n) in keys), None)

        return cls(
            period=column(layout.period),
            code=column(layout.organisation),
            name=column(layout.organisation_name),
            parent=column(layout.parent),
            counts={
                count: [(column_name, keys[header_key(column_name)]) for column_name in columns]
                for count, columns in version.counts.items()
            },
        )

    @property
    def width(self):
        """The columns a provider's line needs: up to the last of its period, code and counts."""
        counted = (index for columns in self.counts.values() for _, index in columns)
        return max(index for index in (self.period, self.code, *counted)) + 1


def _cell(record, index):
    return record[index].strip() if index is not None and index < len(record) else ""


def _is_total(record, columns):
    """Whether a line is the file's own total row (England's, or a region's), which is not imported."""
    markers = {_cell(record, index).upper() for index in (columns.period, columns.code, columns.parent, columns.name)}
    return bool(markers & TOTAL_WORDS)


def _read_provider(record, columns, layout):
    """(code, month, counts, problems) of a provider's line: its ODS code, its month and its summed counts."""
    problems = []
    code = _cell(record, columns.code).upper()
    if not code:
        problems.append(f"column “{layout.organisation[0]}”: no ODS code")
    elif not re.fullmatch(r"[A-Z0-9]{3,10}", code):
        problems.append(f"column “{layout.organisation[0]}”: “{code[:20]}” is not an ODS code")
    period = _cell(record, columns.period)
    try:
        month = parse_period(period)
    except ValueError as exc:
        month = None
        problems.append(f"column “{layout.period[0]}”: “{period[:40]}” is not a month ({exc})")
    counts = {}
    for count, count_columns in columns.counts.items():
        total = 0
        for column_name, index in count_columns:
            try:
                total += parse_count(record[index])
            except ValueError as exc:
                problems.append(f"column “{column_name}”: {exc}")
        counts[count] = total
    return code, month, counts, problems


def _records(reader):
    """(line, record) of each line after the header that is not blank; the line a record starts on (a quoted cell
    may span lines)."""
    last = reader.line_num
    for record in reader:
        line, last = last + 1, reader.line_num
        if any(cell.strip() for cell in record):
            yield line, record


def read_published(stream, layouts, name="the file"):
    """Check every line of ``stream``; return a ``PublishedFile`` of its providers' lines, or raise
    ``PublishedFileError`` naming the line and column of every problem (nothing is half read)."""
    reader, layout, version, keys, errors = read_header(stream, layouts, name)
    columns = _Columns.of(layout, version, keys)
    result = PublishedFile(layout=layout, version=version, name=name)
    seen = {}
    try:
        for line, record in _records(reader):
            where = f"{name}: line {line}"
            if len(record) > MAX_COLUMNS or any(len(cell) > MAX_CELL for cell in record):
                errors.append(
                    f"{where}: longer than a published line ({MAX_COLUMNS} columns of {MAX_CELL} characters)."
                )
                continue
            if _is_total(record, columns):
                result.total_lines.append(line)
                continue
            if len(record) < columns.width:
                errors.append(f"{where}: {len(record)} columns; the figures are read from the first {columns.width}.")
                continue
            provider_line = _provider_line(record, line, where, columns, layout, seen, errors)
            if provider_line is not None:
                result.lines.append(provider_line)
    except csv.Error as exc:
        errors.append(f"{name}: line {reader.line_num}: the file is not valid CSV ({exc}).")
    if errors:
        raise PublishedFileError(errors)
    if not result.lines:
        raise PublishedFileError([f"{name} has the published header but no providers' lines."])
    return result


def _provider_line(record, line, where, columns, layout, seen, errors):
    """The ``ProviderLine`` of a line, or None with its problems added to ``errors``; ``seen`` maps each (code,
    month) read so far to its line, so that a provider's month given twice is refused naming both lines."""
    code, month, counts, problems = _read_provider(record, columns, layout)
    if problems:
        errors.extend(f"{where}, {problem}." for problem in problems)
        return None
    numerator, denominator = layout.figure(counts)
    if numerator < 0 or numerator > denominator:
        errors.append(
            f"{where}: the counts make {numerator:,} of {denominator:,} ("
            + ", ".join(f"{count} {value:,}" for count, value in counts.items())
            + "); a part cannot be more than the whole."
        )
        return None
    if (code, month) in seen:
        errors.append(f"{where}: {code} for {format_month(month)} is already on line {seen[code, month]}.")
        return None
    seen[code, month] = line
    return ProviderLine(line, month, code, _cell(record, columns.name), counts, numerator, denominator)


@dataclass(frozen=True)
class Provider:
    """Where a provider's figures are counted: its organisation and the local health system and region it is in."""

    organisation: object
    local_system: object = None
    region: object = None


ENGLAND = ("england", None)


@dataclass
class Sums:
    """Each area's (numerator, denominator) per month, summed from providers' counts; ``unknown`` lists the lines of
    providers the portal does not know, counted into England only."""

    figures: dict = field(default_factory=dict)  # ((level, area), month) -> [numerator, denominator]
    unknown: list = field(default_factory=list)  # (file name, line, ODS code, name)

    def add(self, area, month, numerator, denominator):
        figure = self.figures.setdefault((area, month), [0, 0])
        figure[0] += numerator
        figure[1] += denominator


def sum_by_area(files, providers):
    """Exact sums of every provider's numerator and denominator, for the provider's organisation, local health
    system and region (from ``providers``: ODS code -> ``Provider``) and England: never an average of rates.

    A provider the portal does not know is counted into England only. A provider and month given by two files is
    refused, naming both."""
    sums = Sums()
    seen, errors = {}, []
    for parsed in files:
        for line in parsed.lines:
            key = (line.ods_code, line.month)
            if key in seen:
                errors.append(
                    f"{parsed.name}: line {line.line}: {line.ods_code} for {format_month(line.month)} is also in {seen[key]}."
                )
                continue
            seen[key] = f"{parsed.name}, line {line.line}"
            sums.add(ENGLAND, line.month, line.numerator, line.denominator)
            provider = providers.get(line.ods_code)
            if provider is None:
                sums.unknown.append((parsed.name, line.line, line.ods_code, line.name))
                continue
            sums.add(("organisation", provider.organisation), line.month, line.numerator, line.denominator)
            if provider.local_system is not None:
                sums.add(("local_system", provider.local_system), line.month, line.numerator, line.denominator)
            if provider.region is not None:
                sums.add(("region", provider.region), line.month, line.numerator, line.denominator)
    if errors:
        raise PublishedFileError(errors)
    return sums
