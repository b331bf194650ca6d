"""A bulk write (nhs_joint.bulk.in_bulk) does each save's upkeep once at its end, and leaves what a save
one at a time would have left: the records' search documents."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from nhs_joint import bulk
from search.models import SearchDocument
from tests import factories as f

pytestmark = pytest.mark.django_db


def documents(programme):
    return dict(
        SearchDocument.objects.filter(source__in=["programmes.programme", "programmes.workstream"]).values_list(
            "title", "belongs_to"
        )
    )


def writes_of_documents(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().startswith("INSERT INTO search_searchdocument")]


def test_documents_are_written_once_at_the_end_and_as_saves_one_at_a_time_write_them():
    with CaptureQueriesContext(connection) as one_at_a_time:
        programme = f.ProgrammeFactory(title="Frailty at the front door")
        for n in range(3):
            f.WorkstreamFactory(programme=programme, title=f"Frailty unit {n}")
    expected = documents(programme)
    assert len(expected) == 4
    SearchDocument.objects.all().delete()
    programme.workstreams.all().delete()
    programme.delete()

    with transaction.atomic(), CaptureQueriesContext(connection) as in_bulk:
        with bulk.in_bulk():
            programme = f.ProgrammeFactory(title="Frailty at the front door")
            for n in range(3):
                f.WorkstreamFactory(programme=programme, title=f"Frailty unit {n}")
            assert not SearchDocument.objects.exists()  # put off to the end of the block
        assert documents(programme) == expected
    # One write a kind (the programme's, the workstreams', and its new programme's dependents once more), not
    # one a save.
    assert len(writes_of_documents(in_bulk.captured_queries)) <= 3
    assert len(writes_of_documents(one_at_a_time.captured_queries)) > 3


def test_a_block_that_raises_drops_its_gathered_work_and_the_next_save_is_done_at_once():
    with pytest.raises(RuntimeError), transaction.atomic(), bulk.in_bulk():
        f.ProgrammeFactory(title="Never kept")
        raise RuntimeError("the write failed")
    assert not SearchDocument.objects.exists()
    f.ProgrammeFactory(title="Kept at once")
    assert list(SearchDocument.objects.values_list("title", flat=True)) == ["Kept at once"]


def test_nested_blocks_join_the_outer_one():
    with transaction.atomic(), bulk.in_bulk():
        with bulk.in_bulk():
            f.ProgrammeFactory(title="Inner")
        assert not SearchDocument.objects.exists()  # the inner block's end is not the bulk write's end
    assert list(SearchDocument.objects.values_list("title", flat=True)) == ["Inner"]
