"""The code stays readable: no function too complex to follow, no dead code, one way to write a date or a name.

- radon: no function or method of the apps or the core (migrations aside) has a cyclomatic complexity of
  rank D or worse (over 20); a longer job is split into named steps.
- vulture (80% confidence and up): no unused code; parameters that the frameworks require are named in
  tests/vulture_whitelist.py.
- Dates are formatted by nhs_joint/dates.py alone, and a person's name is ``str(user)``
  (accounts.models.User.__str__: the full name, or the username).
"""

import re
from pathlib import Path

import vulture
from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "accounts",
    "appointments",
    "asks",
    "collaboration",
    "dashboards",
    "jobs",
    "measures",
    "nhs_joint",
    "notifications",
    "organisations",
    "programmes",
    "regions",
    "reports",
    "search",
)


def sources(templates=False):
    """The Python modules of the apps and the core (and the templates), migrations aside."""
    for package in PACKAGES:
        yield from sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)
    if templates:
        yield from sorted(p for p in (ROOT / "templates").rglob("*") if p.is_file())


def test_no_function_is_of_complexity_rank_d_or_worse():
    complex_ = {
        f"{path.relative_to(ROOT)} {block.fullname}"
        for path in sources()
        for block in cc_visit(path.read_text())
        if cc_rank(block.complexity) >= "D"
    }
    assert complex_ == set(), "functions of rank D or worse: split each into named steps"


def test_vulture_finds_no_dead_code():
    found = vulture.Vulture()
    found.scavenge(
        [str(ROOT / package) for package in PACKAGES] + [str(ROOT / "tests" / "vulture_whitelist.py")],
        exclude=["*/migrations/*"],
    )
    unused = [
        f"{item.filename.relative_to(ROOT)}:{item.first_lineno} {item.message}"
        for item in found.get_unused_code(min_confidence=80)
    ]
    assert unused == []


# strftime's month and day codes, Django's date_format, or a month's name taken from a table of one's own.
HAND_MADE_DATE = re.compile(r"%-?d %[bB]|%[bB] %Y|date_format\(|strftime\(|MONTHS\[")


def test_dates_are_formatted_in_one_place():
    by_hand = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources(templates=True)
        if path != ROOT / "nhs_joint" / "dates.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if HAND_MADE_DATE.search(line)
    ]
    assert by_hand == []


def test_a_persons_name_is_written_in_one_place():
    full_name_or_username = re.compile(r"get_full_name\(\)\s*or\b")
    by_hand = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources(templates=True)
        if path != ROOT / "accounts" / "models.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if full_name_or_username.search(line)
    ]
    assert by_hand == []
