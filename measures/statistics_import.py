"""Import NHS England's published statistics files (``measures/published.py``) as figures at every level.

Every file is read and checked first; then each organisation's, local health system's, region's and England's
figure of each month is written with its numerator and denominator, all in one transaction. A month imported
again takes the file's figures (each change kept in the figure's history, with the file it came from), except a
figure a person entered or corrected, which is kept and listed.
"""

import csv
import gzip
import io
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from nhs_joint.words import count
from organisations.models import Organisation

from .layouts import LAYOUTS
from .models import Measure, Measurement
from .published import ENGLAND, Provider, PublishedFileError, read_published, recognise, sum_by_area

THOUSANDTH = Decimal("0.001")
MAX_LISTED = 20  # unknown providers and kept figures named in a result; the rest are counted
GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 8 * 1024  # enough for any published header row
MAX_TEXT = 20 * 1024 * 1024  # a month of England is about 40 KB of text


@dataclass
class StatisticsResult:
    layout: object = None
    files: int = 0
    months: list = field(default_factory=list)
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown: list = field(default_factory=list)  # (file, line, ODS code, name)
    kept: list = field(default_factory=list)  # Measurement kept: entered or corrected by a person
    total_lines: int = 0

    @property
    def period(self):
        if not self.months:
            return ""
        first, last = self.months[0], self.months[-1]
        return f"{first:%B %Y}" if first == last else f"{first:%B %Y} to {last:%B %Y}"

    def __str__(self):
        text = (
            f"{self.layout.title}, {self.period}: {count(self.lines, 'provider line')}; "
            f"{count(self.created, 'figure')} added, {self.updated:,} updated, {self.unchanged:,} unchanged."
        )
        if self.unknown:
            codes = sorted({code for _, _, code, _ in self.unknown})
            text += (
                f" {count(len(codes), 'provider')} the portal does not know "
                f"({count(len(self.unknown), 'line')}) counted into England only."
            )
        if self.kept:
            text += f" {count(len(self.kept), 'figure')} kept: corrected by staff."
        return text

    def unknown_lines(self):
        """Each unknown provider's line, in words, the first ``MAX_LISTED``."""
        return [
            f"{name}: line {line}: {code}{f' ({org_name})' if org_name else ''} is not an organisation the portal "
            "knows; counted into England only."
            for name, line, code, org_name in self.unknown[:MAX_LISTED]
        ]

    def kept_figures(self):
        return [f"{figure}: kept, corrected by staff." for figure in self.kept[:MAX_LISTED]]


def text_stream(stream):
    """The bytes of ``stream`` as a stream, ungzipped if it is a gzip file; at most ``MAX_TEXT`` bytes of text."""
    data = stream.read(MAX_TEXT + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data[:2] == GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_TEXT + 1)
        except (OSError, EOFError):
            raise PublishedFileError(["the file is not a gzip file that can be read."]) from None
    if len(data) > MAX_TEXT:
        raise PublishedFileError(
            [f"the file holds more than {MAX_TEXT // 1024 // 1024} MB of text; split it by month."]
        )
    return io.BytesIO(data)


def is_published(head):
    """Whether ``head`` (the first bytes of a file, gzipped or not) starts with a published layout's header row."""
    if head[:2] == GZIP_MAGIC:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
        except zlib.error:
            return False
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip(" ,\t")), "")
    try:
        header = next(csv.reader([first]), [])
    except csv.Error:
        return False
    return recognise(header, LAYOUTS.values()) is not None


def providers():
    """ODS code -> where the provider's figures are counted, from the portal's organisations."""
    return {
        code: Provider(organisation=pk, local_system=local_system, region=region)
        for code, pk, local_system, region in Organisation.objects.values_list(
            "ods_code", "pk", "local_system_id", "region_id"
        ).order_by()
    }


def read_files(files, layouts):
    """``files``: (name, binary stream) pairs. Every file is read before anything is written."""
    parsed, errors = [], []
    for name, stream in files:
        try:
            parsed.append(read_published(text_stream(stream), layouts, name))
        except PublishedFileError as exc:
            errors.extend(error if error.startswith(name) else f"{name}: {error}" for error in exc.errors)
    if errors:
        raise PublishedFileError(errors)
    kinds = {p.layout.key for p in parsed}
    if len(kinds) > 1:
        raise PublishedFileError(["the files are of different published statistics; import one kind at a time."])
    return parsed


def import_statistics(files, layout_key=None, user=None):
    """Import published files (``files``: (name, binary stream) pairs), all or nothing.

    ``layout_key`` (``ae``) says which published file they must be; without it the header says."""
    if layout_key is not None and layout_key not in LAYOUTS:
        raise PublishedFileError([f"“{layout_key}” is not a published file the portal reads ({', '.join(LAYOUTS)})."])
    layouts = [LAYOUTS[layout_key]] if layout_key else list(LAYOUTS.values())
    parsed = read_files(files, layouts)
    layout = parsed[0].layout
    measure = Measure.all_objects.filter(code=layout.measure).first()
    if measure is None:
        raise PublishedFileError([f"no measure has the code “{layout.measure}”, whose figures {layout.title} gives."])
    sums = sum_by_area(parsed, providers())
    result = StatisticsResult(
        layout=layout,
        files=len(parsed),
        months=sorted({month for p in parsed for month in p.months}),
        lines=sum(len(p.lines) for p in parsed),
        unknown=sums.unknown,
        total_lines=sum(len(p.total_lines) for p in parsed),
    )
    reason = _reason(", ".join(p.name for p in parsed))
    try:
        _write(measure, layout, sums, result, user, reason)
    except IntegrityError:
        raise PublishedFileError(
            ["some of these months were saved by someone else at the same moment; nothing was saved, try again."]
        ) from None
    return result


def _reason(names):
    reason = f"Imported from {names}"
    return reason if len(reason) <= 100 else reason[:99] + "…"


def value_of(layout, numerator, denominator):
    if not denominator:
        return None
    value = Decimal(layout.scale) * Decimal(numerator) / Decimal(denominator)
    return value.quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


AREA_FIELD = {"organisation": "organisation_id", "local_system": "local_system_id", "region": "region_id"}


def _key(area, month):
    level, pk = area
    return (
        pk if level == "organisation" else None,
        pk if level == "local_system" else None,
        pk if level == "region" else None,
        month,
    )


def _write(measure, layout, sums, result, user, reason):
    published = Measurement.Source.PUBLISHED
    with transaction.atomic():
        existing = {
            (m.organisation_id, m.local_system_id, m.region_id, m.month): m
            for m in Measurement.every_level.select_for_update(of=("self",))
            .filter(measure=measure, month__in=result.months)
            .select_related("region", "organisation", "local_system", "measure")
            .order_by()
        }
        to_create, to_update = [], []
        for (area, month), (numerator, denominator) in sums.figures.items():
            value = value_of(layout, numerator, denominator)
            if value is None:  # no attendances at all: no figure to derive
                continue
            key = _key(area, month)
            held = existing.get(key)
            if held is None:
                fields = {"measure": measure, "month": month, "source": published}
                if area != ENGLAND:
                    fields[AREA_FIELD[area[0]]] = area[1]
                to_create.append(Measurement(**fields, value=value, numerator=numerator, denominator=denominator))
            elif held.source == Measurement.Source.ENTERED:
                result.kept.append(held)
            elif (held.value, held.numerator, held.denominator, held.source) == (
                value,
                numerator,
                denominator,
                published,
            ):
                result.unchanged += 1
            else:
                held.value, held.numerator, held.denominator, held.source = value, numerator, denominator, published
                to_update.append(held)
        if to_create:
            bulk_create_with_history(
                to_create, Measurement, batch_size=2000, default_user=user, default_change_reason=reason
            )
        if to_update:
            bulk_update_with_history(
                to_update,
                Measurement,
                ["value", "numerator", "denominator", "source"],
                batch_size=2000,
                default_user=user,
                default_change_reason=reason,
                manager=Measurement.every_level,
            )
        result.created, result.updated = len(to_create), len(to_update)
        result.kept.sort(key=lambda m: (m.month, str(m)))
    return result
