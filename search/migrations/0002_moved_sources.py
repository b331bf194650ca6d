"""The search documents of the expectations and measures name their models' new apps (asks, measures).

A document's ``source`` is its model's label; the models moved from programmes with their tables and ids, so
the documents are relabelled rather than built again.
"""

from django.db import migrations

MOVED = {"programmes.expectation": "asks.expectation", "programmes.measure": "measures.measure"}


def relabel(apps, moves):
    SearchDocument = apps.get_model("search", "SearchDocument")
    for old, new in moves.items():
        SearchDocument.objects.filter(source=old).update(source=new)


def forwards(apps, schema_editor):
    relabel(apps, MOVED)


def backwards(apps, schema_editor):
    relabel(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial"), ("asks", "0001_initial"), ("measures", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
