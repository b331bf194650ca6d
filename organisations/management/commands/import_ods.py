"""Import an ODS file (27-field or older 24-field CSV): NHS trusts (etr), CCGs (eccg), or NHS England's
regions and local offices (eauth). The file is recognised first; all of it is imported, or nothing."""

from django.core.management.base import BaseCommand, CommandError

from organisations.services import KINDS, OdsFileError, import_ods


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("file", help="an ODS CSV file, e.g. data/ods/etr.csv")
        parser.add_argument(
            "--kind", required=True, choices=KINDS, help="trusts (etr.csv), ccgs (eccg.csv) or regions (eauth.csv)"
        )

    def handle(self, *args, file, kind, **options):
        try:
            result = import_ods(file, kind)
        except OdsFileError as exc:
            raise CommandError(f"{file} was not imported; nothing was saved.\n{exc}") from None
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror}).") from None
        self.stdout.write(self.style.SUCCESS(f"import_ods {file}: {result}"))
