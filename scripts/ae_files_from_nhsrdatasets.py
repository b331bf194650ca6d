"""Write data/statistics/ae/: NHS England's monthly A&E files of April 2016 to March 2019, one per month, in the
published layout, from the ``ae_attendances`` data set of the nhs-r-community NHSRdatasets package.

The data set is NHS England's published "A&E Attendances and Emergency Admissions" figures (Open Government
Licence v3.0) tidied to one line per provider, month and department type. This script writes them back as NHS
England publishes them: one line per provider with a column per department type, a period such as
``MSitAE-APRIL-2016`` and a ``TOTAL`` line. Files of April 2016 to March 2018 carry the earlier header
(``Number of A&E attendances Type 1`` …), later ones the current one (``A&E attendances Type 1`` …). Provider
names and parent organisations are taken from data/ods where the portal knows the provider, and left empty
otherwise (the data set keeps only the ODS code).

Run once, by hand, where the ``rdata`` package is installed (it is not one of the portal's requirements):

    python scripts/ae_files_from_nhsrdatasets.py ae_attendances.rda data/statistics/ae
"""

import csv
import datetime as dt
import gzip
import io
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("1", "2", "other")
sys.path.insert(0, str(ROOT))
from measures.layouts import AE_MONTHLY  # noqa: E402  (the headers are declared once, where the portal reads them)

_VERSIONS = {version.name: version.counts for version in AE_MONTHLY.versions}
ADMISSIONS = (
    "Emergency admissions via A&E - Type 1",
    "Emergency admissions via A&E - Type 2",
    "Emergency admissions via A&E - Other A&E department",
)
EARLIER = {**_VERSIONS["Number of A&E attendances …"], "admissions": ADMISSIONS}
CURRENT = {**_VERSIONS["A&E attendances …"], "admissions": ADMISSIONS}
CURRENT_FROM = dt.date(2018, 4, 1)


def read_rda(path):
    import rdata  # only this script needs it

    frame = rdata.read_rda(str(path))["ae_attendances"]
    figures = defaultdict(lambda: defaultdict(dict))  # month -> code -> (type, what) -> count
    for period, code, kind, attendances, breaches, admissions in frame.itertuples(index=False):
        month = dt.date(1970, 1, 1) + dt.timedelta(days=int(period))
        cell = figures[month][str(code)]
        for what, value in (("attendances", attendances), ("breaches", breaches), ("admissions", admissions)):
            cell[(str(kind), what)] = int(value)
    return figures


def providers():
    regions = {row["ods_code"]: row["ods_name"] for row in csv.DictReader((ROOT / "data/ods/regions.csv").open())}
    known = {}
    for row in csv.reader((ROOT / "data/ods/etr.csv").open()):
        known[row[0]] = (row[1], regions.get(row[2], ""))
    return known


def write_month(month, counts, known, folder):
    columns = CURRENT if month >= CURRENT_FROM else EARLIER
    header = ["Period", "Org Code", "Parent Org", "Org name"] + [c for names in columns.values() for c in names]
    period = f"MSitAE-{month:%B}-{month:%Y}".upper().replace("MSITAE", "MSitAE")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    totals = [0] * (len(header) - 4)
    for code in sorted(counts, key=lambda c: (known.get(c, ("",))[0] == "", c)):
        name, parent = known.get(code, ("", ""))
        values = [counts[code].get((kind, what), 0) for what in columns for kind in TYPES]
        totals = [a + b for a, b in zip(totals, values)]
        writer.writerow([period, code, parent, name, *values])
    writer.writerow(["TOTAL", "-", "-", "Total", *totals])
    path = folder / f"Monthly-AE-{month:%B}-{month:%Y}.csv.gz"
    path.write_bytes(gzip.compress(out.getvalue().encode("utf-8"), mtime=0))
    return path


def main(rda, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    known = providers()
    for month, counts in sorted(read_rda(rda).items()):
        print(write_month(month, counts, known, folder))


if __name__ == "__main__":
    main(*sys.argv[1:3])
