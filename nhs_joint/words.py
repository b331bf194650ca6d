"""Words the portal's pages share: counts with the right plural, "a" or "an", and text cut between words."""

import re
from decimal import Decimal, InvalidOperation

# Words that start with a vowel letter but a consonant sound, and the reverse (by their first letters).
_CONSONANT_SOUND = ("one", "once", "uni", "use", "usu", "user", "eu", "ewe", "ure")
_VOWEL_SOUND = ("hour", "honest", "honour", "heir")
# Letters whose spoken name starts with a vowel sound, for abbreviations such as "an NHS" or "an ODS code".
_VOWEL_LETTERS = set("AEFHILMNORSX")


def article(noun):
    """ "a" or "an" for a noun as it is said: an expectation, a user, an NHS trust, a one-time password."""
    text = str(noun).strip()
    if not text:
        return "a"
    word = re.split(r"[\s\-–]", text, maxsplit=1)[0]
    lower = word.lower()
    if len(word) > 1 and word.isupper():  # an abbreviation, read letter by letter
        return "an" if word[0] in _VOWEL_LETTERS else "a"
    if lower.startswith(_VOWEL_SOUND):
        return "an"
    if lower.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if lower[:1] in "aeiou" else "a"


def with_article(noun):
    """The noun after its article: "an expectation"."""
    return f"{article(noun)} {noun}"


_IRREGULAR = {"person": "people", "child": "children", "analysis": "analyses"}


def plural(noun, count=2):
    """The noun in the singular for 1 (or -1) and in the plural otherwise: finding, findings; body, bodies."""
    noun = str(noun)
    if abs(count) == 1:
        return noun
    head, space, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        word = _IRREGULAR[lower]
        word = word.capitalize() if last[:1].isupper() else word
    elif lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        word = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head}{space}{word}"


def count(number, noun, plural_form=None, zero=None):
    """A count in words: 1 finding, 2 findings, 1,234 findings; ``zero`` instead of "0 findings" where given."""
    number = int(number or 0)
    if number == 0 and zero is not None:
        return zero
    words = noun if abs(number) == 1 else (plural_form or plural(noun, number))
    return f"{number:,} {words}"


def shorten(text, limit=80, ellipsis="…"):
    """Text cut to at most ``limit`` characters at a word boundary, with an ellipsis when anything was cut."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis) + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else cut[: limit - len(ellipsis)]
    return cut.rstrip(" ,;:.–-") + ellipsis


def showing(start, end, total, noun, plural_form=None, more_than=None):
    """What a list page shows, in words: "Showing 1 programme", "Showing 12 programmes", "Showing 1 to 25 of 130
    programmes", or "Showing 1 to 25 of more than 10,000 programmes" where the count stops at ``more_than``."""
    if more_than is not None:
        return f"Showing {start:,} to {end:,} of more than {count(more_than, noun, plural_form)}"
    if start <= 1 and end >= total:
        return f"Showing {count(total, noun, plural_form)}"
    return f"Showing {start:,} to {end:,} of {count(total, noun, plural_form)}"


def download_as_csv(total, noun, plural_form=None, capped=False):
    """The link text of a list's CSV download: "Download this programme as CSV", "Download these 12 programmes as
    CSV", "Download them all as CSV" (where the count stops)."""
    if capped:
        return "Download them all as CSV"
    if total == 1:
        return f"Download this {noun} as CSV"
    return f"Download these {count(total, noun, plural_form)} as CSV"


def none_found(plural_form, filtered, archived=False):
    """A list's empty state that matches what was asked: "No programmes match these filters" only when filters
    are set; otherwise "There are no programmes yet" (or "There are no archived programmes")."""
    if filtered:
        return f"No {plural_form} match these filters"
    if archived:
        return f"There are no archived {plural_form}"
    return f"There are no {plural_form} yet"


def last_signed_in(moment, shown=None):
    """When someone last signed in (``shown``, else the moment itself), or "Never" for someone who never has."""
    if moment is None:
        return "Never"
    return moment if shown is None else shown


# Figures with their units: "87.5%", "18 minutes", "1,234", "4.2 per 1,000". A measure's unit is one of these
# codes (Measure.Unit); its decimal places say how many decimals its figures are written with.
UNITS = {
    "percent": ("{}%", "{}%"),
    "minutes": ("{} minute", "{} minutes"),
    "count": ("{}", "{}"),
    "rate_per_1000": ("{} per 1,000", "{} per 1,000"),
}
COMPARATORS = {">=": "at least", "<=": "at most"}


def _decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def figure(value, unit="", places=None):
    """A figure as people write it, with its unit: "87.5%", "18 minutes", "1 minute", "1,234", "4.2 per 1,000".

    ``places`` is the measure's number of decimal places (the figure is rounded to it, and written with
    exactly that many); without it the figure is written without trailing zeros ("95.00" as "95"). Empty for
    no figure."""
    if value is None or value == "":
        return ""
    number = _decimal(value)
    if number is None:
        return str(value)
    if places is None:  # as many decimals as the figure has, trailing zeros left out
        places = max(0, -number.normalize().as_tuple().exponent)
    text = f"{round(number, int(places)):,.{int(places)}f}"
    one, many = UNITS.get(str(unit or ""), ("{}", "{}"))
    return (one if number == 1 else many).format(text)


def comparison(comparator, value, unit="", places=None):
    """A target or standard in words: "at least 95%", "at most 18 minutes"; the figure alone without a
    comparator; never the symbols ">=" or "<=". Rounded to ``places`` but without trailing zeros: a target of
    95 is "at least 95%" for a measure written to one decimal place."""
    number = _decimal(value)
    if number is not None and places is not None:
        number = round(number, int(places))
        places = max(0, -number.normalize().as_tuple().exponent)
    shown = figure(number if number is not None else value, unit, places)
    words = COMPARATORS.get(str(comparator or ""), "")
    return f"{words} {shown}".strip() if shown else ""


def measure_figure(value, measure):
    """A figure of a measure, in its unit and decimal places: "87.5%"."""
    return figure(value, measure.unit, getattr(measure, "decimal_places", None))


def measure_target(comparator, value, measure):
    """A target or standard of a measure in words: "at least 95%"."""
    return comparison(comparator, value, measure.unit, getattr(measure, "decimal_places", None))
