"""Where and when a text's work is: the places and organisations it names, its years and its phases.

Two texts about the same kind of scheme share most of their words; what tells two trusts' own frailty
units, or the first and second phase of one programme, apart is usually a name or a number: the place or
organisation ("Hertfordshire", "Russells Hall Hospital", "Aintree University Hospital NHS Foundation Trust"),
the year ("2023 to 2025", "2019/20") or the phase ("phase 2", "the fifth round", "wave 3").

- Places come from the portal's own reference data (data/ods: the trusts', CCGs' and ICBs' names less
  their organisational words, their post towns, the STPs' names and the regions), each matched in a text
  only as a capitalised name, plus the four nations of the United Kingdom.
- Organisations: any capitalised name ending in a kind of NHS body or site ("X NHS Foundation Trust",
  "X CCG", "X Integrated Care Board", "X ICB", "X Hospital", "X Health and Care Partnership").
- Years: four-digit years from 1990 to 2039, financial years written "2019/20" or "2019-20" (both
  years), and ranges "2023 to 2025" (every year in them).
- Phases: a number or an ordinal with phase, wave, round, cohort, tranche, stage or version
  ("phase 2", "second wave", "year 4"), kept as (word, number).

Nothing here comes from the labelled sets' words; the lists are the reference data's own names.
"""

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "ods"

# Words of an organisation's name that say what kind of body it is, not where it is.
ORGANISATION_WORDS = frozenset(
    [
        "nhs",
        "trust",
        "foundation",
        "ccg",
        "icb",
        "sub-icb",
        "reporting",
        "entity",
        "commissioning",
        "hub",
        "hospitals",
        "hospital",
        "university",
        "universities",
        "teaching",
        "healthcare",
        "health",
        "care",
        "partnership",
        "community",
        "mental",
        "service",
        "services",
        "ambulance",
        "integrated",
        "social",
        "children's",
        "childrens",
        "women's",
        "womens",
        "specialist",
        "clinical",
        "group",
        "board",
        "the",
        "of",
        "and",
        "for",
        "in",
        "on",
        "at",
        "&",
        "-",
        "h&j",
        "stp",
        "ics",
        "partners",
        "our",
        "healthier",
        "joined",
        "up",
        "sustainability",
        "transformation",
        "plan",
        "orthopaedic",
        "cancer",
        "centre",
        "centres",
        "heart",
        "chest",
        "neuro",
        "neurology",
        "eye",
        "dental",
        "partnerships",
        "primary",
        "learning",
        "disability",
        "disabilities",
        "national",
        "royal",
        "public",
        "isle",
        "alliance",
        "boroughs",
        "coastal",
        "people",
        "regional",
        "local",
        "general",
        "district",
        "city",
        "county",
        "children",
    ]
)
DIRECTIONS = ("north", "south", "east", "west", "central", "mid", "greater", "inner", "outer")
NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")
NATION_NAMES = frozenset(nation.lower() for nation in NATIONS)
YEAR_FIRST, YEAR_LAST = 1990, 2039


def _place_parts(name):
    """The place names in an organisation's name: its runs of words that are not organisational words,
    and each run less its leading compass word ("North Cumbria" and "Cumbria")."""
    words = re.split(r"[\s,()]+", name.lower().replace("’", "'").replace(".", ""))
    runs, run = [], []
    for word in words + ["and"]:
        if not word or word in ORGANISATION_WORDS:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(word)
    out = set()
    for run in runs:
        out.add(" ".join(run))
        rest = run
        while rest and rest[0] in DIRECTIONS:
            rest = rest[1:]
            if rest:
                out.add(" ".join(rest))
    return {place for place in out if len(place) >= 4 and place.isascii() and not set(place.split()) <= set(DIRECTIONS)}


@lru_cache(maxsize=1)
def places():
    """The set of place names (lower case) the reference data knows."""
    found = set()
    for filename in ("etr.csv", "eccg.csv"):
        path = DATA / filename
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if len(row) > 7:
                    found |= _place_parts(row[1])
                    found |= _place_parts(row[7])  # the post town
    for filename, column in (("stps.csv", "stp_name"), ("regions.csv", "short_name")):
        path = DATA / filename
        if path.exists():
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    found |= _place_parts(row[column])
    found |= {nation.lower() for nation in NATIONS}
    return frozenset(found)


CAPITALISED = re.compile(r"[A-Z][A-Za-z']*(?:(?:\.? |-)(?:(?:on|upon|under|in|le|by|the|of|and)[ -])?[A-Z][A-Za-z']*)*")
LONGEST_PLACE = 5  # words


def places_in(text):
    """The place names the reference data knows that a text names, each as a capitalised name (longest
    first: "North Cumbria" rather than "Cumbria")."""
    known, found = places(), set()
    for run in CAPITALISED.findall(text):
        words = run.replace("-", " ").replace(".", "").lower().split()
        i = 0
        while i < len(words):
            for n in range(min(LONGEST_PLACE, len(words) - i), 0, -1):
                name = " ".join(words[i : i + n])
                if name in known:
                    found.add(name)
                    i += n
                    break
            else:
                i += 1
    return found


ORGANISATION = re.compile(
    r"\b(?:NHS (?:Foundation )?Trust|CCG|Clinical Commissioning Group|Integrated Care Board|ICB"
    r"|Hospitals?|Health (?:and|&) Care Partnership)\b"
)
ORGANISATION_KINDS = ("Trust", "CCG", "Commissioning", "Board", "ICB", "Hospital", "Partnership")
NAME_BEFORE = re.compile(r"((?:[A-Z][\w'-]*|and|of|the|&)(?: (?:[A-Z][\w'-]*|and|of|the|&)){0,7}) $")
GENERIC_LEADS = frozenset(
    [
        "the",
        "a",
        "an",
        "our",
        "your",
        "their",
        "this",
        "that",
        "nhs",
        "new",
        "local",
        "each",
        "every",
        "all",
        "and",
        "of",
        "&",
    ]
)
GENERIC_TAILS = frozenset(["and", "of", "the", "&", "nhs", "university"])


def organisations_in(text):
    """The names of the NHS bodies and hospitals a text names, without their kind of body ("russells hall",
    "norfolk and norwich university")."""
    found = set()
    for match in ORGANISATION.finditer(text):
        before = NAME_BEFORE.search(text, max(0, match.start() - 80), match.start())
        if not before:
            continue
        words = before.group(1).split()
        while words and words[0].lower() in GENERIC_LEADS:
            words = words[1:]
        while words and words[-1].lower() in GENERIC_TAILS:
            words = words[:-1]
        if words:
            found.add(" ".join(words).lower())
    return found


YEAR = re.compile(r"\b((?:19|20)\d\d)(?:\s?(?:/|-|–|to)\s?((?:19|20)?\d\d))?\b")
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
PHASE_WORDS = "phase|wave|round|cohort|tranche|stage|version"
_NUMBER = r"(\d{1,2}|" + "|".join(ORDINALS) + r")"
PHASE = re.compile(rf"\b(?:{_NUMBER}(?:st|nd|rd|th)?\s)?({PHASE_WORDS})(?:\s{_NUMBER}\b)?", re.IGNORECASE)


# Whose work a text describes. A national text speaks of England or the nation; a local one speaks as one
# body ("the Trust", "our patients") or of its own area ("locally").
NATIONAL_SCOPE = re.compile(
    r"\b(?:England|English|[Nn]ational(?:ly)?|[Nn]ationwide|across the country|UK-wide|the whole country)\b"
)
LOCAL_VOICE = re.compile(
    r"\b(?:(?:[Tt]he|[Oo]ur|[Tt]his) Trust(?:'s)?|[Oo]ur (?:patients|hospitals?|wards?|services?|teams?|staff|"
    r"communit(?:y|ies)|area|region|borough|county|city|town|residents|population|local|practices?|clinics?|"
    r"partners|system|place)|[Ll]ocally|in our)\b"
)

# What stage of a piece of work a text describes, where it says: a study or evaluation of the work, or a
# pilot, an extension or an expansion of it (a later piece of work than its launch).
EVALUATION = re.compile(r"\b(?:[Ee]valuat\w*|[Ss]tud(?:y|ies)|[Rr]esearch\w*|[Ff]indings|[Ii]nterim report)\b")
EXTENSION = re.compile(
    r"\b(?:[Ee]xpan(?:d|ds|ded|ding|sion)|[Ee]xten(?:d|ds|ded|ding|sion)|[Pp]ilot(?:s|ed|ing)?|"
    r"[Rr]olled out to|[Nn]ext phase|[Nn]ow (?:also )?(?:available|offered|open) to)\b"
)


@dataclass(frozen=True)
class Markers:
    places: frozenset  # place names, lower case
    organisations: frozenset  # organisations' names, lower case, without their kind of body
    years: frozenset  # ints
    phases: frozenset  # (word, number)
    national: bool = False  # speaks of England or the nation
    local_voice: bool = False  # speaks as one body or of its own area ("the Trust", "our patients", "locally")
    evaluation: bool = False  # speaks of a study or evaluation
    extension: bool = False  # speaks of a pilot, an extension or an expansion

    @property
    def where(self):
        """The places (less the nations: a national programme and one place's delivery of it may be the
        same work) and organisations named."""
        return (self.places - NATION_NAMES) | self.organisations

    @property
    def local(self):
        """Speaks as one body or of one area, or names a place or body (other than a nation)."""
        return self.local_voice or bool(self.where)


def _number(text):
    text = text.lower()
    return ORDINALS[text] if text in ORDINALS else int(text)


def years_in(text):
    found = set()
    for match in YEAR.finditer(text):
        if match.start() and text[match.start() - 1] in "£$,.":
            continue  # an amount or a number, not a year
        first, second = match.groups()
        start = int(first)
        if not YEAR_FIRST <= start <= YEAR_LAST:
            continue
        found.add(start)
        if second:
            end = int(second) if len(second) == 4 else start // 100 * 100 + int(second)
            if start < end <= start + 10:
                found.update(range(start + 1, end + 1))
    return found


def markers_of(text):
    """The Markers of a text (its title and description together)."""
    text = text.replace("’", "'")
    lower = text.lower()
    phases = set()
    if any(word in lower for word in PHASE_WORDS.split("|")):
        for before, word, after in PHASE.findall(text):
            if before or after:
                phases.add((word.lower(), _number(after or before)))
    organisations = organisations_in(text) if any(kind in text for kind in ORGANISATION_KINDS) else ()
    years = years_in(text) if "19" in text or "20" in text else ()
    return Markers(
        frozenset(places_in(text)),
        frozenset(organisations),
        frozenset(years),
        frozenset(phases),
        bool(NATIONAL_SCOPE.search(text)),
        bool(LOCAL_VOICE.search(text)),
        bool(EVALUATION.search(text)),
        bool(EXTENSION.search(text)),
    )


def differ(first, second):
    """1.0 when both sets have something and nothing in common, else 0.0."""
    return 1.0 if first and second and not (first & second) else 0.0


def phases_differ(first, second):
    """1.0 when both name a phase of one kind (phase, wave, round...) and no number of that kind in common."""
    kinds = {word for word, _ in first} & {word for word, _ in second}
    for kind in kinds:
        if not {n for w, n in first if w == kind} & {n for w, n in second if w == kind}:
            return 1.0
    return 0.0
