"""Load the demonstration data set (2018-19, fictional people, generated measurements) and print its logins."""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from programmes.demo import DEFAULT_PASSWORD, PLANTED, seed


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help=f"the demonstration logins' password (default: DEMO_PASSWORD, else {DEFAULT_PASSWORD})"
        )

    def handle(self, *args, password=None, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Demonstration data is not allowed here (DEMO_DATA_ALLOWED is off, as in production): "
                "it would add fictional people and generated figures to real records."
            )
        password = password or os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        call_command("load_reference", stdout=self.stdout)
        result = seed(password=password)
        for line in result.tally.lines():
            self.stdout.write(f"seed_demo: {line}")
        self.stdout.write(f"seed_demo: {len(PLANTED)} problems are planted for the reports (see docs/demo-data.md).")
        self.stdout.write(self.style.SUCCESS("Demonstration logins (password: " + password + "):"))
        for username, role in result.users:
            self.stdout.write(f"  {username:<15} {role}")
