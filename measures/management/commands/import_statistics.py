"""Import NHS England's published statistics files as published (``ae``: Monthly A&E Attendances and Emergency
Admissions), one or more files, gzipped or not: all of them, or nothing."""

from django.core.management.base import BaseCommand, CommandError

from measures.layouts import LAYOUTS
from measures.statistics_import import MAX_LISTED, PublishedFileError, import_statistics


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "layout",
            choices=sorted(LAYOUTS),
            help="which published file: "
            + ", ".join(f"{key} ({layout.title})" for key, layout in sorted(LAYOUTS.items())),
        )
        parser.add_argument("files", nargs="+", metavar="FILE", help="a published CSV file (.csv or .csv.gz)")

    def handle(self, *args, layout, files, **options):
        streams = []
        try:
            for name in files:
                streams.append((name, open(name, "rb")))  # noqa: SIM115 - closed below, whatever happens
        except OSError as exc:
            for _, stream in streams:
                stream.close()
            raise CommandError(f"{exc.filename}: cannot be read ({exc.strerror}).") from None
        try:
            result = import_statistics(streams, layout, user=None)
        except PublishedFileError as exc:
            raise CommandError(f"Nothing was imported; nothing was saved.\n{exc}") from None
        finally:
            for _, stream in streams:
                stream.close()
        self.stdout.write(self.style.SUCCESS(str(result)))
        for line in result.unknown_lines():
            self.stdout.write(line)
        if len(result.unknown) > MAX_LISTED:
            self.stdout.write(
                f"… and {len(result.unknown) - MAX_LISTED:,} more lines of providers the portal does not know."
            )
        for line in result.kept_figures():
            self.stdout.write(line)
        if len(result.kept) > MAX_LISTED:
            self.stdout.write(f"… and {len(result.kept) - MAX_LISTED:,} more figures kept.")
