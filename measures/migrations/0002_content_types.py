"""The content types of Measure, ProgrammeMeasure and Measurement (and their histories) follow them from programmes to measures.

Permissions, comments, watches, notifications, papers, the admin's log and every other record that names a
model by its content type keep pointing at the same rows: the content type row is relabelled, not replaced.
A database made after the move has no such rows yet (Django makes them after migrating): nothing to do.
"""

from django.db import migrations

OLD, NEW = "programmes", "measures"


def relabel(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    names = [model._meta.model_name for model in apps.get_app_config(NEW).get_models()]
    taken = set(ContentType.objects.filter(app_label=new, model__in=names).values_list("model", flat=True))
    ContentType.objects.filter(app_label=old, model__in=set(names) - taken).update(app_label=new)


def forwards(apps, schema_editor):
    relabel(apps, OLD, NEW)


def backwards(apps, schema_editor):
    relabel(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial"), ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(forwards, backwards)]
