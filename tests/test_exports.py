"""CSV exports: exactly the rows the filters show, streamed, and safe to open in a spreadsheet."""

import csv
import gc
import io
import tracemalloc

import pytest
from django.db import connection

from nhs_joint.exports import safe_cell
from programmes.models import Programme
from tests import factories as f

pytestmark = pytest.mark.django_db


def read_csv(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 20", "'+44 20"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("-12.5", "-12.5"),
        ("Plain", "Plain"),
        (None, ""),
    ],
)
def test_cells_that_would_be_formulas_are_neutralised(value, expected):
    assert safe_cell(value) == expected


def test_export_has_exactly_the_filtered_rows(client, nhse, nhsi):
    f.ProgrammeFactory(title="=cmd|' /C calc'!A0", bodies=[nhse], status="active")
    f.ProgrammeFactory(title="Active NHSI", bodies=[nhsi], status="active")
    f.ProgrammeFactory(title="Closed NHSE", bodies=[nhse], status="closed")
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    response = client.get("/programmes/?status=active&ordering=title&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = read_csv(response)
    assert rows[0][:3] == ["Title", "Theme", "Bodies"]
    assert [r[0] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "Active NHSI"]


@pytest.mark.slow
def test_export_of_10000_programmes_streams_without_holding_all_rows(client, nhse):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO programmes_programme
                (title, slug, summary, description, theme, integration_stage, status, start_date, version)
            SELECT 'Programme ' || n, 'bulk-' || n, 'Summary ' || n, repeat('Description text ', 20), 'theme',
                   'separate', 'active', DATE '2018-04-01', 1
            FROM generate_series(1, 10000) AS n
            """
        )
    assert Programme.objects.count() == 10000
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    response = client.get("/programmes/?export=csv")
    assert response.streaming

    # What is measured is what the export holds on to: garbage waiting for the collector is collected as it
    # goes, so the figure does not depend on when earlier tests left the collector due to run.
    gc.collect()
    tracemalloc.start()
    chunks = 0
    lines = 0
    for chunk in response.streaming_content:
        chunks += 1
        lines += chunk.count(b"\n")
        if chunks % 500 == 0:
            gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert lines == 10001  # the header and every programme
    assert chunks > 10000  # written row by row, not as one body

    # For comparison, the memory that holding every row at once takes.
    from programmes.views import programmes

    gc.collect()
    tracemalloc.start()
    everything = [[c.export_value(p) for c in programmes.list.columns] for p in programmes.list.queryset()]
    _, all_rows_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(everything) == 10000
    assert peak < all_rows_peak / 2, (peak, all_rows_peak)
