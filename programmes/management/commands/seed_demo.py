"""Load the demonstration data set (2018-19, fictional people, generated measurements) and print its logins."""

import io
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from programmes.demo import DEFAULT_PASSWORD, PLANTED, seed


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="bring the demonstration records back to their seeded values, naming each one replaced "
            "(without it, records that exist are never changed)",
        )
        parser.add_argument(
            "--password", help=f"the demonstration logins' password (default: DEMO_PASSWORD, else {DEFAULT_PASSWORD})"
        )

    def handle(self, *args, password=None, reset=False, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Demonstration data is not allowed here (DEMO_DATA_ALLOWED is off, as in production): "
                "it would add fictional people and generated figures to real records."
            )
        password = password or os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        # The reference data it builds on (scripts/run.sh has loaded it already, and says so: quietly here).
        call_command("load_reference", stdout=io.StringIO())
        result = seed(password=password, reset=reset)
        for line in result.tally.lines():
            self.stdout.write(f"seed_demo: {line}")
        if reset:
            for line in result.seeding.replaced:
                self.stdout.write(f"seed_demo --reset: replaced {line}")
            if not result.seeding.replaced:
                self.stdout.write("seed_demo --reset: every demonstration record was already as seeded")
        self.stdout.write(f"seed_demo: {len(PLANTED)} problems are planted for the reports (see docs/demo-data.md).")
        self.stdout.write(self.style.SUCCESS("Demonstration logins (password: " + password + "):"))
        for username, role, password_set in result.users:
            note = "" if password_set else "  (already there: its password was left as it is)"
            self.stdout.write(f"  {username:<15} {role}{note}")
