"""NHS wording made comparable: spelling, stems, numbers, the glossary and the synonyms."""

import pytest

from reports import duplication
from reports.wording import british, label, stem, terms


def concepts(text):
    return {label(t) for t in terms(text).counts if t.startswith(("nhs:", "syn:"))}


def shared(a, b):
    return set(terms(a).counts) & set(terms(b).counts)


@pytest.mark.parametrize(
    "american, british_",
    [
        ("organize", "organise"),
        ("prioritization", "prioritisation"),
        ("pediatric", "paediatric"),
        ("center", "centre"),
        ("analyze", "analyse"),
        ("size", "size"),
    ],
)
def test_spelling_is_made_british(american, british_):
    assert british(american) == british_


def test_word_forms_share_a_stem_and_meanings_do_not_merge():
    assert stem("reduce") == stem("reduction") == stem("reducing")
    assert stem("consultant") != stem("consultation")


def test_an_abbreviation_and_its_full_form_are_one_concept():
    assert shared("Speed up CHC eligibility decisions", "NHS continuing healthcare assessments") & {
        t for t in terms("CHC").counts if t.startswith("nhs:")
    }
    assert shared("A&E four-hour performance", "emergency department waits")
    # Written in lower case, "it" is a word, not information technology.
    assert not any(t.startswith("nhs:") for t in terms("make it work").counts)
    assert any(t.startswith("nhs:") for t in terms("replace IT equipment").counts)


def test_numbers_and_units_are_written_one_way():
    assert "n:25 percent" in terms("cut by 25 per cent").counts
    assert "n:25 percent" in terms("cut by 25%").counts
    assert "n:80 percent" in terms("four in five decisions").counts
    assert "n:62 day" in terms("the 62-day standard").counts
    assert "n:28 day" in terms("within four weeks").counts
    assert "n:14 day" in terms("within a fortnight").counts


def test_ordinary_synonyms_share_a_concept():
    assert "cost" in concepts("agency spend") and "cost" in concepts("staff costs")
    assert "staff" in concepts("the workforce plan")


def test_scores_are_between_0_and_1_and_the_same_text_scores_1():
    index = duplication.build_index(
        [
            (1, "Agency staffing spend controls", "Cap what trusts pay for agency nurses and doctors."),
            (2, "Agency staff cost reduction", "Reduce the cost of agency staff in NHS trusts."),
            (3, "Agency staffing spend controls", "Cap what trusts pay for agency nurses and doctors."),
            (4, "Bowel cancer screening", "Extend the screening age range to 50."),
        ]
    )
    left, right, scores = duplication.candidate_pairs(duplication.nearest(index, 3), minimum=0.0)
    pairs = {(index.ids[a], index.ids[b]): s for a, b, s in zip(left.tolist(), right.tolist(), scores.tolist())}
    assert pairs[(1, 3)] == pytest.approx(1.0, abs=1e-5)
    assert pairs[(1, 2)] > pairs.get((1, 4), 0.0)
    assert all(0 <= score <= 1 for score in pairs.values())
    explained = duplication.shared_concepts(index, 1, 2)
    assert any("≈" in term for term in explained), explained
