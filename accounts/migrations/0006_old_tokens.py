"""Tokens of Django REST framework's authtoken app, which the portal no longer uses.

Each old token becomes an ApiToken, kept as a digest and ending API_TOKEN_DAYS from now, so clients
keep working while their owners move to tokens that expire; then the old table, which held tokens in
clear, is dropped.
"""

import datetime
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def move_old_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.key, t.user_id, t.created FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id "
            "WHERE u.is_active AND NOT u.must_change_password"
        )
        for key, user_id, created in cursor.fetchall():
            ApiToken.objects.create(
                user_id=user_id,
                name="Token issued before tokens expired",
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                created=created or now,
                expires=now + datetime.timedelta(days=settings.API_TOKEN_DAYS),
            )
        cursor.execute("DROP TABLE authtoken_token CASCADE")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_api_tokens")]

    operations = [migrations.RunPython(move_old_tokens, migrations.RunPython.noop)]
