"""Words the portal's pages share: counts with the right plural, "a" or "an", and text cut between words."""

import re

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
