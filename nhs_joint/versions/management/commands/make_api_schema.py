import time

from django.core.management.base import BaseCommand

from nhs_joint import api_docs


class Command(BaseCommand):
    help = (
        "Makes the API's OpenAPI schema and keeps it in the schema cache under the version of the code, so that "
        "the first request for the API documentation after a release reads it back instead of making it. Run at "
        "each release, before the web server starts (scripts/run.sh does)."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        size = api_docs.make_schema()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"The API schema of code version {api_docs.code_version()} is kept ({size:,} bytes, {seconds:.1f} s)."
        )
