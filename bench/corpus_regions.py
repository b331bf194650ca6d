"""The NHS England region(s) each real-text corpus text would be recorded with, from its publisher alone.

    .venv/bin/python bench/corpus_regions.py [--local-bodies] [--out data/duplication-real/regions.json]

The portal compares two workstreams only when their regions overlap (a workstream with no region is all
England). The corpus records no regions, so this assigns them from who published each text, never from the
labels: a text published by one English trust, CCG or system (ICB, STP, cancer alliance, network) is that
body's own work in its region; the trusts' and CCGs' regions are the ODS codes in data/ods (etr.csv,
eccg.csv), the systems' (and trusts or CCGs no longer in ODS under the name given) from the table below,
which is public knowledge of where each body works. --local-bodies also gives regions to local bodies of
the "other" kind that deliver work of their own (GP practices and federations, training hubs, local pharmacy
committees, councils, local charities). Every other text (national bodies, press including local papers,
Healthwatch, research, reposts, Wales, Scotland, Northern Ireland and abroad) has no region: all England.
"""

import argparse
import csv
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# NHS England's seven regions (data/ods/regions.csv)
LONDON, SOUTH_WEST, SOUTH_EAST, MIDLANDS, EAST, NORTH_WEST, NORTH_EAST = (
    "Y56",
    "Y58",
    "Y59",
    "Y60",
    "Y61",
    "Y62",
    "Y63",
)

# Trusts, CCGs and systems whose region is not found by name in data/ods.
BODIES = {
    "Aintree University Hospital NHS Foundation Trust": [NORTH_WEST],  # now Liverpool University Hospitals
    "Be You Northumberland (Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust)": [NORTH_EAST],
    "nhsrubisqi.co.uk (project page of South London and Maudsley NHS Foundation Trust)": [LONDON],
    "Midlands Partnership University NHS Foundation Trust": [MIDLANDS],
    "Manchester Health and Care Commissioning": [NORTH_WEST],
    "NHS North East Essex CCG": [EAST],
    "Shaping Our Future (Cornwall and Isles of Scilly health and care partnership)": [SOUTH_WEST],
    "Health Innovation West of England": [SOUTH_WEST],
    "Healthier Lancashire and South Cumbria": [NORTH_WEST],
    "Hertfordshire and Bedfordshire Local IT (HBL ICT)": [EAST],
    "London Health Programmes (NHS London)": [LONDON],
    "NHS Buckinghamshire, Oxfordshire and Berkshire West ICB": [SOUTH_EAST],
    "NHS Cheshire and Merseyside": [NORTH_WEST],
    "NHS England – London": [LONDON],
    "NHS Lancashire and South Cumbria ICB": [NORTH_WEST],
    "NHS North Central London ICB (GP website)": [LONDON],
    "NHS South West London ICB (medicines optimisation)": [LONDON],
    "North Central London Cancer Alliance": [LONDON],
    "North London Partners in health and care (NCL STP)": [LONDON],
    "North Thames Genomic Laboratory Hub": [LONDON, EAST],
    "Northamptonshire Health and Care Partnership": [MIDLANDS],
    "One Eastern Devon": [SOUTH_WEST],
    "Peninsula Cancer Alliance": [SOUTH_WEST],
    "RM Partners (West London Cancer Alliance)": [LONDON],
    "South East Genomic Medicine Service": [LONDON, SOUTH_EAST],
    "South Thames Sickle Cell and Thalassaemia Network": [LONDON, SOUTH_EAST],
    "Transformation Partners in Health and Care (NHS London)": [LONDON],
    "Yorkshire & Humber AHSN": [NORTH_EAST],
    "NHS England – North East and Yorkshire (blog)": [NORTH_EAST],
}

# Local bodies of the "other" kind that deliver work of their own in one area (with --local-bodies).
LOCAL_BODIES = {
    "Alderley Edge Medical Practice (GP practice news)": [NORTH_WEST],
    "Barton House Medical Practice (GP practice)": [LONDON],
    "Bournemouth, Christchurch and Poole Council (scrutiny committee)": [SOUTH_WEST],
    "Catalyst (Surrey and Hampshire charity)": [SOUTH_EAST],
    "Community Pharmacy Bedfordshire, Luton, Milton Keynes and Northamptonshire": [EAST, MIDLANDS],
    "Community Pharmacy Staffordshire and Stoke-on-Trent": [MIDLANDS],
    "Cornwall Council": [SOUTH_WEST],
    "GP Care Group (Tower Hamlets GP federation)": [LONDON],
    "Knowsley Health and Wellbeing (Knowsley Council)": [NORTH_WEST],
    "Lancashire County Council (Health and Wellbeing Board)": [NORTH_WEST],
    "Norfolk Care Association (Norfolk KPWAH)": [EAST],
    "North Central London Training Hub": [LONDON],
    "One Health Lewisham (GP federation)": [LONDON],
    "Orchard Surgery, Ashford (GP practice)": [SOUTH_EAST],
    "People First (London Borough of Merton)": [LONDON],
    "Rutland County Council": [MIDLANDS],
    "SLIC (Southwark and Lambeth Integrated Care)": [LONDON],
    "SLIPs (Southwark and Lambeth Integrated Pathway for Older People with Falls)": [LONDON],
    "Shropshire, Telford and Wrekin Training Hub": [MIDLANDS],
    "Slough Borough Council (The Link)": [SOUTH_EAST],
    "South and North East (SNEE) Training Hub": [EAST],
    "The Stansted Surgery (GP practice news)": [EAST],
}

NOT_ENGLAND = ("Northern Ireland", "Wales", "Scotland", "Victoria")


def _name(text):
    text = re.sub(r"\s*\(.*?\)", "", text).replace("&", "AND").upper()
    return re.sub(r"[^A-Z ]", "", text).split()


def ods_regions():
    regions = {}
    for name in ("etr.csv", "eccg.csv"):
        with open(ROOT / "data" / "ods" / name, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                regions.setdefault(tuple(_name(row[1])), row[2])
    return regions


def assign(texts, local_bodies=False):
    ods = ods_regions()
    out = {}
    for text in texts:
        publisher, kind = text["publisher"], text["kind"]
        regions = []
        if any(place in publisher for place in NOT_ENGLAND):
            regions = []
        elif kind in ("trust", "ccg", "system"):
            found = ods.get(tuple(_name(publisher)))
            regions = BODIES.get(publisher) or ([found] if found else [])
            if not regions:
                raise SystemExit(f"no region for {publisher!r}: add it to BODIES")
        elif publisher in BODIES:
            regions = BODIES[publisher]
        elif local_bodies and kind == "other":
            regions = LOCAL_BODIES.get(publisher, [])
        out[text["key"]] = sorted(regions)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "data" / "duplication-real" / "corpus.json"))
    parser.add_argument("--local-bodies", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "data" / "duplication-real" / "regions.json"))
    args = parser.parse_args()
    texts = json.loads(Path(args.corpus).read_text(encoding="utf-8"))["texts"]
    regions = assign(texts, args.local_bodies)
    lines = ",\n".join(f"{json.dumps(key)}: {json.dumps(codes)}" for key, codes in sorted(regions.items()))
    Path(args.out).write_text("{\n" + lines + "\n}\n", encoding="utf-8")
    print(f"{sum(bool(r) for r in regions.values())} of {len(regions)} texts given a region; wrote {args.out}")


if __name__ == "__main__":
    main()
