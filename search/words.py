"""What people type, read as the portal writes it, and the portal's words, stored as people may type them.

Both sides meet on PostgreSQL's English stems (disabilities and disability), with:

- NHS abbreviations and their full forms (data/glossary/nhs_abbreviations.csv, read by reports/wording.py):
  a stored text naming a concept either way gains a token for it, and a query naming it either way asks
  for that token, so "UEC" finds "urgent and emergency care" and "A&E" finds "emergency department";
- British spellings (reports/wording.british): a stored text gains the British form of an American word,
  and a query asks for both;
- hyphens and joined words: "e-rostering" is stored with "erostering" too, and a query's "e-rostering",
  "e rostering" or "erostering" each asks for either;
- near spellings: a typed word that is no word of any record's title is also read as the title words
  nearest to it by trigram similarity (pg_trgm), so "dischrage" finds "discharge" (search/query.py).
"""

import re
from dataclasses import dataclass

from reports import wording

WORD = re.compile(r"[^\W_]+(?:[&-][^\W_]+)*")
HYPHENATED = re.compile(r"\b[^\W_]+(?:-[^\W_]+)+\b")
LETTERS = re.compile(r"[^\W\d_]+")
MAX_WORDS = 12
MAX_WORD_LENGTH = 60
# Abbreviations that are also everyday words: typed in lower case they are the word, in capitals the
# abbreviation ("nice" is nice, "NICE" the institute).
EVERYDAY = frozenset(
    [
        "audit",
        "echo",
        "eric",
        "fit",
        "news",
        "nice",
        "respect",
        "safer",
        "send",
        "pet",
        "pod",
        "raid",
        "rag",
        "des",
        "les",
        "ent",
        "hes",
        "img",
        "sms",
        "api",
        "its",
        "ods",
        "spa",
        "sas",
        "sus",
        "tec",
        "ward",
    ]
)


def concept_token(concept):
    """The token a glossary concept ("nhs:4") is stored and asked for as: one word no text contains."""
    return "nhsterm" + concept.split(":", 1)[1]


def index_text(text):
    """``text`` with what people may type instead of its words: British spellings, hyphenated words joined,
    and a token for each NHS glossary concept it names."""
    text = text or ""
    if not text.strip():
        return ""
    extra = []
    for word in set(LETTERS.findall(text.lower())):
        british = wording.british(word)
        if british != word:
            extra.append(british)
    extra += [compound.replace("-", "") for compound in HYPHENATED.findall(text)]
    extra += [concept_token(term) for term in wording.terms(text).counts if term.startswith("nhs:")]
    return " ".join([text, *extra])


def title_words(title):
    """The words of a title that a typed word may be a misspelling of."""
    return {w for w in LETTERS.findall((title or "").lower()) if 4 <= len(w) <= MAX_WORD_LENGTH}


def _quoted(word):
    return "'" + word.replace("'", "").replace("\\", "") + "'"


@dataclass
class Unit:
    """One thing the query asks for: any of its alternatives (each a word or a phrase of words)."""

    alternatives: list  # [[word, …]]: one word, or a phrase
    prefix: bool = False  # the last word typed, matched as the start of a word too
    typed: str = ""  # a word that may be misspelt, for the near-spelling look-up

    def render(self, weight=""):
        rendered = []
        for words in self.alternatives:
            tail = (":*" if self.prefix and len(words) == 1 else ":") + weight
            tail = "" if tail == ":" else tail
            rendered.append(" <-> ".join(_quoted(w) + tail for w in words))
        return "(" + " | ".join(dict.fromkeys(rendered)) + ")"


def _abbreviations_written_as_in_glossary(tokens):
    """The query's words with any abbreviation typed in lower case written as the glossary writes it."""
    table = wording.concepts().abbreviations
    written = []
    for token in tokens:
        lower = token.lower()
        forms = table.get((lower,))
        if forms and token == lower and len(lower) >= 2 and lower not in EVERYDAY and lower not in wording.STOP_WORDS:
            written.append(" ".join(next(iter(forms))))
        else:
            written.append(token)
    return written


def units(text):
    """The query as Units, every one of which a record must match (in any of its alternatives)."""
    tokens = [t[:MAX_WORD_LENGTH] for t in WORD.findall(text)][:MAX_WORDS]
    if not tokens:
        return []
    found = wording.terms(" ".join(_abbreviations_written_as_in_glossary(tokens)))
    result, covered = _concept_units(found)
    ends_open = not text[-1:].isspace()
    index = 0
    while index < len(tokens):
        lower = tokens[index].lower()
        if lower in covered or lower.replace("&", "") == "":
            index += 1
            continue
        unit, index = _word_unit(tokens, index, ends_open)
        result.append(unit)
    return result


def _concept_units(found):
    """A Unit for each glossary concept the query names (its token, the words typed, its full form), and
    the words those concepts cover."""
    covered, result = set(), []
    for term, words in found.surface.items():
        if not term.startswith("nhs:"):
            continue
        typed = [w.lower() for w in words.split(" ")]
        alternatives = [[concept_token(term)]]
        if not any("&" in w for w in typed):  # "A&E" as words would be "a" and "e": the concept says it
            alternatives.append(typed)
        # Its full form too: the same records (their documents hold the concept), and the words to mark.
        expansion = wording.concepts().expansions.get(term, "")
        full_form = [w for w in WORD.findall(expansion.lower()) if "&" not in w]
        if full_form and full_form != typed:
            alternatives.append(full_form)
        result.append(Unit(alternatives))
        covered.update(typed)
    return result, covered


def _word_unit(tokens, index, ends_open):
    """The Unit of the word ``tokens[index]`` (with the next one, for a letter typed apart from its word),
    and the index of the word after it."""
    lower = tokens[index].lower()
    last = index == len(tokens) - 1
    parts = [p for p in re.split(r"[-&]", lower) if p]
    if len(parts) == 1 and len(lower) == 1 and not last and LETTERS.fullmatch(lower):
        # "e rostering": a letter typed apart from the word it belongs to.
        parts = [lower, tokens[index + 1].lower()]
        index += 1
        last = index == len(tokens) - 1
    alternatives = []
    if len(parts) > 1:
        alternatives += [parts, ["".join(parts)]]
    else:
        alternatives.append(parts)
        british = wording.british(parts[0])
        if british != parts[0]:
            alternatives.append([british])
    may_be_misspelt = len(parts) == 1 and LETTERS.fullmatch(parts[0]) and len(parts[0]) >= 4
    return Unit(alternatives, prefix=last and ends_open, typed=parts[0] if may_be_misspelt else ""), index + 1


def tsquery(query_units, weight=""):
    """The units as tsquery text (read with to_tsquery('english', …)); ``weight`` ("A", "AB") restricts where
    the words may be found. Every word is quoted: nothing typed is read as tsquery syntax."""
    return " & ".join(unit.render(weight) for unit in query_units)
