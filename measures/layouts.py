"""The published statistics files the portal reads, each declared once (see docs/published-statistics.md).

Column names are as NHS England publishes them; a file is recognised by its header row, whatever the order of
its columns. Adding a file (referral to treatment, cancer waiting times, ambulance response times) is a
declaration here, the measure it gives figures of, and a test on a file written from the published names.
"""

from .published import HeaderVersion, PublishedLayout

AE_SOURCE = (
    "NHS England, A&E Attendances and Emergency Admissions "
    "(https://www.england.nhs.uk/statistics/statistical-work-areas/ae-waiting-times-and-activity/), "
    "Open Government Licence v3.0"
)

AE_MONTHLY = PublishedLayout(
    key="ae",
    title="Monthly A&E Attendances and Emergency Admissions",
    publisher="NHS England",
    measure="ae-4hr",
    period=("Period",),
    organisation=("Org Code", "Organisation Code"),
    organisation_name=("Org name", "Organisation Name"),
    parent=("Parent Org",),
    versions=(
        HeaderVersion(
            "with booked appointments",
            {
                "attendances": (
                    "A&E attendances Type 1",
                    "A&E attendances Type 2",
                    "A&E attendances Other A&E Department",
                    "A&E attendances Booked Appointments Type 1",
                    "A&E attendances Booked Appointments Type 2",
                    "A&E attendances Booked Appointments Other Department",
                ),
                "breaches": (
                    "Attendances over 4hrs Type 1",
                    "Attendances over 4hrs Type 2",
                    "Attendances over 4hrs Other Department",
                    "Attendances over 4hrs Booked Appointments Type 1",
                    "Attendances over 4hrs Booked Appointments Type 2",
                    "Attendances over 4hrs Booked Appointments Other Department",
                ),
            },
        ),
        HeaderVersion(
            "A&E attendances …",
            {
                "attendances": (
                    "A&E attendances Type 1",
                    "A&E attendances Type 2",
                    "A&E attendances Other A&E Department",
                ),
                "breaches": (
                    "Attendances over 4hrs Type 1",
                    "Attendances over 4hrs Type 2",
                    "Attendances over 4hrs Other Department",
                ),
            },
        ),
        HeaderVersion(
            "Number of A&E attendances …",
            {
                "attendances": (
                    "Number of A&E attendances Type 1",
                    "Number of A&E attendances Type 2",
                    "Number of A&E attendances Other A&E Department",
                ),
                "breaches": (
                    "Number of attendances over 4hrs Type 1",
                    "Number of attendances over 4hrs Type 2",
                    "Number of attendances over 4hrs Other A&E Department",
                ),
            },
        ),
    ),
    # Seen within 4 hours: every attendance less those over 4 hours, of every attendance.
    numerator={"attendances": 1, "breaches": -1},
    denominator={"attendances": 1},
    scale=100,
    source=AE_SOURCE,
)

LAYOUTS = {layout.key: layout for layout in (AE_MONTHLY,)}
