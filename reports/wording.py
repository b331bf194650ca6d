"""NHS wording made comparable: the terms a piece of text is about, whichever way it was written.

Two teams describing the same work rarely use the same words: one writes
"CHC", the other "NHS continuing healthcare"; one "reduce spending", the
other "cost reduction"; one "80%", the other "four in five". Before two texts
are compared, each becomes a bag of terms:

- spelling made British (organize -> organise, pediatric -> paediatric);
- numbers written one way: number words become digits, "per cent" and "%"
  are one thing, "62-day" is "62 day", "four in five" is 80%, "a fortnight"
  is 14 days, and weeks also count as days;
- words stemmed (reduce, reduction, reducing -> reduc), with the Snowball
  English stemmer; common words (the, and, of ...) left out;
- NHS abbreviations and their full forms become one concept (A&E, emergency
  department; CHC, NHS continuing healthcare ...), from the glossary in
  data/glossary/nhs_abbreviations.csv;
- ordinary words that mean the same in NHS management writing share a
  concept too (cost, spend, expenditure; staff, workforce ...), from
  data/glossary/synonyms.txt.

Each term remembers the words it came from, so that a finding can say which
concepts two texts share and how each text put them ("CHC ≈ NHS continuing
healthcare").
"""

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import snowballstemmer

GLOSSARY_DIR = Path(__file__).resolve().parents[1] / "data" / "glossary"

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "with",
        "within",
        "who",
        "will",
        "each",
        "every",
        "all",
        "any",
        "our",
        "than",
        "then",
        "there",
        "these",
        "those",
        "was",
        "were",
        "which",
        "while",
        "so",
        "such",
        "can",
        "could",
        "should",
        "would",
        "may",
        "might",
        "must",
        "also",
        "other",
        "per",
        "via",
        "across",
        "about",
        "after",
        "before",
        "over",
        "under",
        "up",
        "down",
        "out",
        "we",
        "us",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "not",
        "no",
        "nor",
        "but",
        "if",
        "when",
        "where",
        "what",
        "how",
        "why",
        "whose",
        "has",
        "one",
        "ones",
        "own",
        "same",
        "both",
        "either",
        "neither",
        "more",
        "most",
        "some",
        "many",
        "much",
        "very",
        "just",
        "only",
    ]
)
# Words kept although common: they carry the number or the unit of a target.
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[&'][A-Za-z0-9]+)*")

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
}
FRACTIONS = {
    "half": 50,
    "halve": 50,
    "halving": 50,
    "a third": 33,
    "one third": 33,
    "two thirds": 67,
    "a quarter": 25,
    "one quarter": 25,
    "three quarters": 75,
}
UNITS = {
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
    "hour": "hour",
    "hours": "hour",
    "hrs": "hour",
    "hr": "hour",
    "minute": "minute",
    "minutes": "minute",
    "mins": "minute",
    "quarter": "quarter",
    "quarters": "quarter",
}
# The same length of time in another unit, so that "four weeks" meets "28 days" and "two quarters" "six months".
CONVERSIONS = {"week": ("day", 7), "fortnight": ("day", 14), "quarter": ("month", 3), "year": ("month", 12)}

# American spellings, whole words or word beginnings, and their British forms.
AMERICAN = {
    "pediatr": "paediatr",
    "anesthe": "anaesthe",
    "anemi": "anaemi",
    "hemato": "haemato",
    "hemorrh": "haemorrh",
    "hemoglob": "haemoglob",
    "orthoped": "orthopaed",
    "gynecolog": "gynaecolog",
    "esophag": "oesophag",
    "edema": "oedema",
    "estrogen": "oestrogen",
    "leukemi": "leukaemi",
    "diarrhea": "diarrhoea",
    "ischemi": "ischaemi",
    "septicemi": "septicaemi",
    "tumor": "tumour",
    "behavior": "behaviour",
    "color": "colour",
    "favor": "favour",
    "honor": "honour",
    "labor": "labour",
    "neighbor": "neighbour",
    "center": "centre",
    "theater": "theatre",
    "fiber": "fibre",
    "liter": "litre",
    "program": "programme",
    "enroll": "enrol",
    "fulfill": "fulfil",
    "defense": "defence",
    "offense": "offence",
    "catalog": "catalogue",
    "modeling": "modelling",
    "modeled": "modelled",
    "traveling": "travelling",
    "traveled": "travelled",
    "labeled": "labelled",
    "labeling": "labelling",
    "canceled": "cancelled",
    "canceling": "cancelling",
    "counselor": "counsellor",
    "counseling": "counselling",
    "gray": "grey",
    "aging": "ageing",
    "judgment": "judgement",
    "acknowledgment": "acknowledgement",
    "fetal": "foetal",
    "maneuver": "manoeuvre",
    "practicing": "practising",
    "analog": "analogue",
    "dialog": "dialogue",
    "license": "licence",
}
IZE_EXCEPTIONS = {"size", "sized", "sizes", "prize", "prizes", "seize", "seized", "capsize", "maize", "baize"}


def british(word):
    """A lowercase word in British spelling."""
    if word in AMERICAN:
        return AMERICAN[word]
    for prefix, replacement in AMERICAN.items():
        if len(prefix) >= 5 and word.startswith(prefix) and not word.startswith(replacement):
            return replacement + word[len(prefix) :]
    if word not in IZE_EXCEPTIONS and len(word) > 5:
        word = re.sub(r"iz(e|ed|es|ing|ation|ations|er|ers)$", r"is\1", word)
        word = re.sub(r"yz(e|ed|es|ing)$", r"ys\1", word)
    return word


_STEMMER = snowballstemmer.stemmer("english")
NOUN_TO_VERB = {"reduct": "reduc", "introduct": "introduc", "deduct": "deduc", "induct": "induc", "product": "produc"}
# Words the stemmer would merge with a word of another meaning in NHS writing: a consultant is a doctor, a
# consultation is an appointment or an engagement exercise; operational is not an operation; capitation is
# not capital; a patient is not patience; a generic medicine is not general practice.
STEM_EXCEPTIONS = {
    "consultant": "consultant",
    "consultants": "consultant",
    "operational": "operational",
    "operationally": "operational",
    "capitation": "capitation",
    "patience": "patience",
    "generic": "generic",
    "generics": "generic",
    "organ": "organ",
    "organs": "organ",
    "universal": "universal",
    "university": "university",
    "universities": "university",
    "news": "news",
    "policing": "policing",
    "police": "police",
}


@lru_cache(maxsize=100_000)
def stem(word):
    """The British, stemmed form of one lowercase word."""
    if word.isdigit():
        return word
    word = british(word)
    stemmed = STEM_EXCEPTIONS.get(word) or _STEMMER.stemWord(word)
    # The stemmer keeps a noun apart from its verb where the root changes: reduction and reduce.
    if word.endswith(("ion", "ions")):
        stemmed = NOUN_TO_VERB.get(stemmed, stemmed)
    return stemmed


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_PERCENT = re.compile(r"(\d)\s*(?:%|per ?cent\b|pc\b)")
_NUMBER_UNIT = re.compile(r"(\d)-(?=[a-z])")
_FRACTION = re.compile(r"\b(?:" + "|".join(sorted(FRACTIONS, key=len, reverse=True)) + r")\b")
_FORTNIGHT = re.compile(r"\b(?:a )?fortnight\b")
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r")\b")
_TENS_UNITS = re.compile(r"\b([2-9]0)[ -]([1-9])\b")
_RATIO = re.compile(r"\b(\d+) (?:in|out of) (?:every )?(\d+)\b")
_ANY_NUMBER = re.compile(r"\d|\b(?:" + "|".join([*NUMBER_WORDS, *FRACTIONS, "fortnight"]) + r")\b")


def _ratio(match):
    part, whole = int(match.group(1)), int(match.group(2))
    if 0 < part <= whole <= 1000:
        return f"{round(100 * part / whole)} percent"
    return match.group(0)


def _numbers(text):
    """Number words as digits, fractions and percentages as one spelling, number-unit compounds split."""
    if not _ANY_NUMBER.search(text):
        return text
    text = _THOUSANDS.sub("", text)
    text = _PERCENT.sub(r"\1 percent", text)
    text = _NUMBER_UNIT.sub(r"\1 ", text)
    text = _FRACTION.sub(lambda m: f"{FRACTIONS[m.group(0)]} percent", text)
    text = _FORTNIGHT.sub("14 days", text)
    text = _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m.group(0)]), text)
    # "twenty one" -> "21" was made "20 1": join tens and units.
    text = _TENS_UNITS.sub(lambda m: str(int(m.group(1)) + int(m.group(2))), text)
    return _RATIO.sub(_ratio, text)


@dataclass
class Concepts:
    """Phrases (tuples of stems) and abbreviations, each with the concepts it stands for."""

    phrases: dict = field(default_factory=lambda: defaultdict(set))  # (stem, ...) -> {concept}
    abbreviations: dict = field(default_factory=dict)  # ("a&e",) -> {("A&E",): {concept}}
    labels: dict = field(default_factory=dict)  # concept -> how a finding names it
    expansions: dict = field(default_factory=dict)  # concept -> its first full form
    longest: int = 1
    starts: dict = field(default_factory=dict)  # first stem or first word -> the longest phrase it can start


def _stems_of(phrase):
    return tuple(stem(w) for w in TOKEN.findall(_numbers(_plain(phrase).lower())))


def _plain(text):
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'").replace("‘", "'").replace("'s ", " ").replace("s' ", "s ")


@lru_cache(maxsize=1)
def concepts():
    """The glossary of NHS abbreviations and the table of ordinary synonyms, read once per process."""
    table = Concepts()
    # Abbreviations: full forms that appear on more than one line are one concept (A&E and ED).
    rows = []
    with open(GLOSSARY_DIR / "nhs_abbreviations.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            abbreviation = row["abbreviation"].strip()
            forms = [f.strip() for f in row["full forms (| between forms of the same concept)"].split("|") if f.strip()]
            rows.append((abbreviation, forms))
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner = {}
    for index, (_, forms) in enumerate(rows):
        for form in forms:
            key = _stems_of(form)
            if key in owner:
                parent[find(index)] = find(owner[key])
            else:
                owner[key] = index
    for index, (abbreviation, forms) in enumerate(rows):
        concept = f"nhs:{find(index)}"
        table.labels.setdefault(concept, f"{rows[find(index)][0]} ({rows[find(index)][1][0]})")
        table.expansions.setdefault(concept, rows[find(index)][1][0])
        written = tuple(TOKEN.findall(abbreviation))
        key = tuple(w.lower() for w in TOKEN.findall(_numbers(abbreviation.lower())))
        table.abbreviations.setdefault(key, {}).setdefault(written, set()).add(concept)
        table.longest = max(table.longest, len(key))
        for form in forms:
            stems = _stems_of(form)
            table.phrases[stems].add(concept)
            table.longest = max(table.longest, len(stems))
            table.starts[stems[0]] = max(table.starts.get(stems[0], 0), len(stems))
        table.starts[key[0]] = max(table.starts.get(key[0], 0), len(key))
    for line in (GLOSSARY_DIR / "synonyms.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words = [w.strip() for w in line.split("|") if w.strip()]
        concept = f"syn:{words[0]}"
        table.labels[concept] = words[0]
        for phrase in words:
            stems = _stems_of(phrase)
            table.phrases[stems].add(concept)
            table.longest = max(table.longest, len(stems))
            table.starts[stems[0]] = max(table.starts.get(stems[0], 0), len(stems))
    return table


STOP_STEMS = frozenset(_STEMMER.stemWord(w) for w in STOP_WORDS) | STOP_WORDS


@dataclass
class Terms:
    """A text's terms with their counts, and for each term the words of the text it came from."""

    counts: dict
    surface: dict  # term -> the first words of the text that gave it
    sequence: tuple = ()  # the stems of the text's content words in their order (its phrases are runs of them)


def _tokens(text):
    """(stems, originals, case-kept words) of a text: numbers normalised, stop words still in (phrases need them)."""
    plain = _plain(text)
    words = _numbers(plain.lower())
    originals = TOKEN.findall(words)
    return [stem(w) for w in originals], originals, set(TOKEN.findall(plain))


EXPAND_ABBREVIATIONS = True
EXPANSION_WEIGHT = 0.5
REPLACE_PHRASES = True  # the words of a phrase that names a concept count through the concept only


def terms(text, overlapping=True, sequence=False):
    """The Terms of a piece of wording.

    Where phrases overlap, the longest one that starts first names the concept ("learning disability" is
    not also "learning"); an abbreviation's full form is read with every phrase inside it counted
    (overlapping), so that "CIP" also says "cost improvement".
    """
    table = concepts()
    stems, originals, as_written = _tokens(text)
    found = _FoundTerms(as_written)
    covered, expansions = _read_phrases(table, stems, originals, as_written, overlapping, found)
    for stem_, original, done in zip(stems, originals, covered):
        if done or stem_ in STOP_STEMS or original in STOP_WORDS or (len(stem_) < 2 and not stem_.isdigit()):
            continue
        found.add(f"w:{stem_}", original)
    _read_numbers_with_units(stems, originals, found)
    if sequence:  # asked for phrases (the content stems in their order): not needed otherwise
        sequence = tuple(
            stem_
            for stem_, original in zip(stems, originals)
            if stem_ not in STOP_STEMS and original not in STOP_WORDS and (len(stem_) >= 2 or stem_.isdigit())
        )
    else:
        sequence = ()
    for expansion in expansions:
        # An abbreviation also says what its full form says ("CIP": a cost improvement, a saving).
        for term, count in terms(expansion, overlapping=True).counts.items():
            if not term.startswith("w:"):
                found.counts[term] += EXPANSION_WEIGHT * count
    return Terms(dict(found.counts), found.surface, sequence)


class _FoundTerms:
    """The terms found so far: each one's count, and the words that first said it."""

    def __init__(self, as_written):
        self.counts, self.surface = defaultdict(float), {}
        # Abbreviations keep their capitals ("CHC", "LeDeR"); a capital that only starts a sentence does not.
        self.cased = {w.lower(): w for w in as_written if w[1:] != w[1:].lower()}

    def add(self, term, words, weight=1.0):
        self.counts[term] += weight
        if term not in self.surface:
            # The words as the text wrote them ("CHC", not "chc"); lower case where the text has both.
            cased = self.cased
            self.surface[term] = " ".join(cased.get(w, w) for w in words.split(" ")) if cased else words


def _read_phrases(table, stems, originals, as_written, overlapping, found):
    """Add the glossary's phrases and abbreviations; return which tokens a phrase covers, and the full forms
    of the abbreviations read."""
    covered = [False] * len(stems)
    expansions = []
    skip_until = 0
    for i in range(len(stems)):
        if i < skip_until:
            continue  # inside a longer phrase already read
        longest = max(table.starts.get(stems[i], 0), table.starts.get(originals[i], 0))
        for length in range(min(longest, len(stems) - i), 0, -1):
            concepts_here = set(table.phrases.get(tuple(stems[i : i + length]), ()))
            concepts_here |= _abbreviations(table, originals[i : i + length], as_written, expansions)
            if concepts_here:
                words = " ".join(originals[i : i + length])
                for concept in concepts_here:
                    found.add(concept, words)
                if length > 1 and REPLACE_PHRASES:
                    covered[i : i + length] = [True] * length
                if not overlapping:
                    skip_until = i + length
                    break
    return covered, expansions


def _abbreviations(table, originals, as_written, expansions):
    """The concepts of the abbreviations these words are, adding their full forms to ``expansions``."""
    found = set()
    for written, concepts_ in table.abbreviations.get(tuple(originals), {}).items():
        # An abbreviation counts as written in capitals (or as the glossary writes it): "IT", not "it".
        if all(w in as_written or w.upper() in as_written for w in written):
            found |= concepts_
            if EXPAND_ABBREVIATIONS and len(concepts_) == 1:
                expansions.append(table.expansions[next(iter(concepts_))])
    return found


def _read_numbers_with_units(stems, originals, found):
    """Numbers with their unit ("28 day", "95 percent"), and the same time in other units."""
    for index in range(len(stems) - 1):
        number, unit = stems[index], originals[index + 1]
        if number.isdigit() and (unit in UNITS or unit == "percent"):
            unit = UNITS.get(unit, unit)
            words = f"{originals[index]} {originals[index + 1]}"
            found.add(f"n:{number} {unit}", words)
            if unit in CONVERSIONS:
                other, factor = CONVERSIONS[unit]
                found.add(f"n:{int(number) * factor} {other}", words)


def label(term):
    """How a finding names a term: a concept's label, or the word itself."""
    if term.startswith(("nhs:", "syn:")):
        return concepts().labels.get(term, term)
    return term.split(":", 1)[1]
