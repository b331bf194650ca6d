"""One row per record that can be found: what the search box reads (search/documents.py writes them)."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchDocument(models.Model):
    """A record as the search finds it: its title and code (weight A), the names of what it belongs to and
    points at (B), and its own text (C), in one stored, indexed vector.

    ``source`` is the record's model ("programmes.workstream") and ``record_id`` its id; ``kind`` is what the
    search calls it (an expectation in consultation is a "consultation"); ``key`` is its address's key.
    """

    source = models.CharField(max_length=60)
    record_id = models.BigIntegerField()
    kind = models.CharField(max_length=30)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=500)
    code = models.CharField(max_length=100, blank=True)
    belongs_to = models.TextField(blank=True)
    text = models.TextField(blank=True)
    archived = models.BooleanField(default=False)
    vector = SearchVectorField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "record_id"], name="search_document_one_per_record")]
        # The vector's GIN index is made in migration 0001.


class SearchWord(models.Model):
    """A word of the records' titles and names, lower case: typed words near one of these are read as it."""

    word = models.CharField(max_length=60, primary_key=True)  # its trigram index is made in migration 0001
