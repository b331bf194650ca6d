from django.core.management.base import BaseCommand
from django.db import connection

from search.documents import rebuild
from search.models import SearchDocument


class Command(BaseCommand):
    help = (
        "Writes every search document again, in one transaction: after writes that send no signal "
        "(bulk_create, QuerySet.update, raw SQL, load_reference). Then vacuums the documents' table, when not run "
        "inside a transaction: the documents replaced are dead rows (and their index entries a pending list) that "
        "every search would read until autovacuum reached them."
    )

    def handle(self, *args, **options):
        counts = rebuild()
        for kind, number in counts.items():
            self.stdout.write(f"{kind}: {number}")
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(SearchDocument._meta.db_table)}")
