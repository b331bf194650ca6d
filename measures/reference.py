"""The measures' reference data: the measures of success, loaded by ``load_reference``.

Registered in ``MeasuresConfig.ready()``; organisations' ``load_reference`` runs it after the
bodies, regions and STPs, in the same transaction.
"""

from decimal import Decimal

from organisations.services import read_csv, upsert

from .models import Measure


def load_measures(data, tally):
    """The measures from data/seed/measures.csv: created when missing, never changed once they exist."""
    for row in read_csv(data / "seed" / "measures.csv"):
        upsert(
            Measure,
            {"code": row["code"]},
            {
                "name": row["name"],
                "unit": row["unit"],
                "direction": row["direction"],
                "standard": Decimal(row["standard"]) if row["standard"] else None,
                "comparator": row["comparator"],
                "decimal_places": int(row.get("decimal_places") or 1),
            },
            tally,
            "measures",
            create_only=True,  # staff keep measures up to date in the portal
        )
