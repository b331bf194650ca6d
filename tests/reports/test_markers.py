"""Where and when a text's work is (reports/markers.py), and the evidence the duplicate-work report takes
from it: two places' own schemes of one kind, or two phases or years of one programme, are not the same
work; a national programme and one place's delivery of it may be."""

import numpy as np

from reports import duplication, markers

FRAILTY_HERTS = (
    "Frailty assessment unit",
    "The frailty assessment unit at Watford General Hospital gives older people living with frailty a rapid "
    "assessment by a multidisciplinary team on the day they arrive, so that fewer are admitted. Hertfordshire.",
)
FRAILTY_DUDLEY = (
    "Frailty assessment unit",
    "The frailty assessment unit at Russells Hall Hospital gives older people living with frailty a rapid "
    "assessment by a multidisciplinary team on the day they arrive, so that fewer are admitted. Dudley.",
)
FRAILTY_NATIONAL = (
    "Acute frailty services",
    "Every acute hospital in England is asked to give older people living with frailty a rapid assessment "
    "by a multidisciplinary team on the day they arrive, so that fewer are admitted.",
)


def test_places_and_organisations_come_from_the_reference_data_and_capitalised_names():
    found = markers.markers_of(FRAILTY_HERTS[1])
    assert "hertfordshire" in found.places
    assert "watford general" in found.organisations
    assert markers.markers_of("Services across North Cumbria and West Essex").places == {"north cumbria", "west essex"}
    # A place is a name: the same word in lower case is not one ("reading the leaflet", "a bath").
    assert markers.markers_of("reading the leaflet before a bath in the north").places == frozenset()


def test_years_include_financial_years_and_ranges():
    assert markers.years_in("the 2019/20 plan") == {2019, 2020}
    assert markers.years_in("for 2023 to 2025") == {2023, 2024, 2025}
    assert markers.years_in("Funding of £2020 and 12,2019 items") == set()
    assert markers.years_in("about 1,000 people in 40 areas") == set()


def test_phases_are_read_as_numbers_or_ordinals():
    assert markers.markers_of("the fourth round of the programme").phases == {("round", 4)}
    assert markers.markers_of("Wave 3 sites and phase two").phases == {("wave", 3), ("phase", 2)}
    assert markers.phases_differ({("wave", 3)}, {("wave", 4)}) == 1.0
    assert markers.phases_differ({("wave", 3)}, {("wave", 3), ("phase", 1)}) == 0.0
    assert markers.phases_differ({("wave", 3)}, {("phase", 1)}) == 0.0  # not the same kind of phase


def _evidence(*texts):
    index = duplication.build_index([(n, title, text) for n, (title, text) in enumerate(texts)])
    neighbours = duplication.nearest(index, 2)
    left, right = np.array([0, 0]), np.array([1, 2])
    return duplication.evidence(index, neighbours, left, right)


def test_two_places_own_schemes_differ_and_a_national_programme_and_one_place_do_not():
    measured = _evidence(FRAILTY_HERTS, FRAILTY_DUDLEY, FRAILTY_NATIONAL)
    assert measured["where_differs"].tolist() == [1.0, 0.0]  # Hertfordshire vs Dudley; vs England only


def test_different_years_and_phases_are_evidence_against():
    first = ("Better care framework", "The policy framework for 2022 to 2023 sets the conditions, wave 1.")
    second = ("Better care framework", "The policy framework for 2024 to 2025 sets the conditions, wave 2.")
    third = ("Better care framework", "The policy framework for 2023 to 2024 sets the conditions, wave 1.")
    measured = _evidence(first, second, third)
    assert measured["years_differ"].tolist() == [1.0, 0.0]
    assert measured["phases_differ"].tolist() == [1.0, 0.0]


def test_the_shipped_model_weighs_each_difference_against_the_same_work():
    model = duplication.match_model()
    weights = dict(zip(duplication.FEATURES, model.coefficients))
    for name in ("where_differs", "years_differ", "phases_differ"):
        assert weights[name] < 0, name


def test_the_evidence_in_words_names_the_places_years_and_phases_that_differ():
    from reports.rules.duplicate_work import evidence_in_words

    first = ("Frailty unit", FRAILTY_HERTS[1] + " Opened in 2019 as phase 1.")
    second = ("Frailty unit", FRAILTY_DUDLEY[1] + " Opened in 2021 as phase 2.")
    index = duplication.build_index([(1, *first), (2, *second)])
    features = duplication.pair_features(index, duplication.nearest(index, 1), np.array([0]), np.array([1]))[0]
    words = evidence_in_words(index, duplication.Pair(1, 2, 0.9, 0.2, features))
    assert "different places or bodies (Hertfordshire, Watford, Watford General; Dudley, Russells Hall)" in words
    assert "different years (2019; 2021)" in words
    assert "different phases (phase 1; phase 2)" in words


def test_whose_work_a_text_describes_national_or_one_bodys_own():
    national = markers.markers_of("Every acute hospital in England is asked to run a frailty service, nationally.")
    trust = markers.markers_of("The Trust opened its frailty unit for our patients last year.")
    named = markers.markers_of(FRAILTY_DUDLEY[1])
    assert (national.national, national.local) == (True, False)
    assert (trust.national, trust.local_voice, trust.local) == (False, True, True)
    assert (named.local_voice, named.local) == (False, True)  # names a hospital and a place, in no voice of its own


def test_a_study_of_the_work_and_the_work_itself_differ():
    work = ("Frailty service", FRAILTY_NATIONAL[1])
    study = ("Frailty service evaluation", "An evaluation of the service found that " + FRAILTY_NATIONAL[1])
    another_study = ("Frailty service research", "Research on the service found that " + FRAILTY_NATIONAL[1])
    measured = _evidence(study, work, another_study)
    assert measured["evaluation_differs"].tolist() == [1.0, 0.0]


def test_the_titles_are_compared_on_their_own():
    first = ("Discharge medicines service", "Pharmacists follow up people leaving hospital with new medicines.")
    second = ("Discharge medicines service", "Community pharmacy support for patients after a hospital stay.")
    third = ("Hospital pharmacy at home", "Pharmacists follow up people leaving hospital with new medicines.")
    measured = _evidence(first, second, third)
    assert measured["title_cosine"][0] > 0.99
    assert measured["title_cosine"][1] < 0.01


def test_shared_phrases_count_two_words_in_a_row_weighted_by_rarity():
    texts = [
        ("Falls service", "The community falls service offers strength and balance classes."),
        ("Falls service", "Our community falls service runs strength and balance classes at home."),
        ("Balance classes", "Balance and strength for older people at risk of a fall."),
        ("Other work", "A service for community groups."),
    ]
    index = duplication.build_index([(n, *text) for n, text in enumerate(texts)], phrases=True)
    measured = duplication.evidence(index, duplication.nearest(index, 2), np.array([0, 0]), np.array([1, 2]))
    assert measured["rare_phrases"][0] >= 3  # "fall servic", "strength balanc", "balanc class"...
    assert measured["rare_phrases"][1] == 0  # the same words, never in the same order
    assert duplication.build_index([(0, *texts[0])]).phrases is None  # only built when asked


def test_the_shipped_model_weighs_alike_titles_for_and_a_study_against_the_same_work():
    weights = dict(zip(duplication.FEATURES, duplication.match_model().coefficients))
    assert weights["title_cosine"] > 0
    assert weights["evaluation_differs"] < 0


def test_the_evidence_in_words_names_alike_titles_and_a_study():
    from reports.rules.duplicate_work import evidence_in_words

    study = ("Frailty service", "An evaluation of the service found that " + FRAILTY_NATIONAL[1])
    index = duplication.build_index([(1, *FRAILTY_NATIONAL), (2, *study)])
    features = duplication.pair_features(index, duplication.nearest(index, 1), np.array([0]), np.array([1]))[0]
    words = evidence_in_words(index, duplication.Pair(1, 2, 0.9, 0.2, features))
    assert "titles alike" in words
    assert "one speaks of a study or evaluation, the other does not" in words
