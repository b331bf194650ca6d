"""Load the reference data: the two bodies and their duties, the regions, the STPs, and what the apps add (the measures); idempotent."""

from django.core.management.base import BaseCommand

from organisations.services import load_reference


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        tally = load_reference()
        for line in tally.lines():
            self.stdout.write(f"load_reference: {line}")
