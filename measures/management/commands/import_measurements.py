"""Import monthly measurements from a CSV file (measure, region, month, value): all of it, or nothing."""

from django.core.management.base import BaseCommand, CommandError

from measures.services import MeasurementFileError, import_measurements


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("file", help="a CSV file with the header measure,region,month,value")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as stream:  # decoded line by line, so a bad byte is blamed on its own line
                result = import_measurements(stream, file)
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror}).") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: the file is not UTF-8 text.") from None
        except MeasurementFileError as exc:
            raise CommandError(f"{file} was not imported; nothing was saved.\n{exc}") from None
        self.stdout.write(self.style.SUCCESS(f"{file}: {result}"))
