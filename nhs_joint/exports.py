"""CSV exports, streamed row by row and safe to open in a spreadsheet."""

import csv

from django.http import StreamingHttpResponse

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    """Neutralise spreadsheet formula injection by prefixing a quote to cells that would be formulas.

    Negative numbers are left alone: a cell that is a number is not a formula.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


# Set by the jobs app: ``background(request, resource, query)`` starts an export too long for one request and
# answers with the page that follows it (the core imports no app).
background = None


def csv_lines(columns, objects):
    """The text of a CSV file of ``objects`` through ``columns``, a line at a time, as the streamed export writes it."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([safe_cell(column.header) for column in columns])
    for obj in objects:
        yield writer.writerow([safe_cell(column.export_value(obj)) for column in columns])


def stream_csv(filename, header, rows):
    """A response that writes ``header`` then each row of the iterable ``rows`` as it is produced."""
    writer = csv.writer(_Echo())

    def generate():
        yield "\ufeff"  # a byte order mark, so spreadsheet programs read UTF-8
        yield writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def export_table(filename, columns, queryset, chunk_size=500):
    """Stream ``queryset`` through ``columns`` in chunks: memory holds one chunk, never the whole result."""
    rows = ([column.export_value(obj) for column in columns] for obj in queryset.iterator(chunk_size=chunk_size))
    return stream_csv(filename, [column.header for column in columns], rows)
