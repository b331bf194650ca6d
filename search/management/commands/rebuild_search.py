from django.core.management.base import BaseCommand

from search.documents import rebuild


class Command(BaseCommand):
    help = (
        "Writes every search document again, in one transaction: after writes that send no signal "
        "(bulk_create, QuerySet.update, raw SQL, load_reference)."
    )

    def handle(self, *args, **options):
        counts = rebuild()
        for kind, number in counts.items():
            self.stdout.write(f"{kind}: {number}")
