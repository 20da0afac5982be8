from __future__ import annotations

import pytest

from bot.matching.text import Normalizer, clean, detect_language, is_traditional, period_parts, periods, zipf


def test_clean_folds_width_case_punctuation_and_traditional() -> None:
    assert clean("ＢＤＡ’s  GDP？") == "bda s gdp"
    assert clean("經開區的生物醫藥") == "经开区的生物医药"
    assert clean("1+N policy!") == "1+n policy"


def test_clean_strips_invisible_characters() -> None:
    assert clean("bi\u200botech\u202e e\u2060town") == "biotech etown"


def test_language_detection() -> None:
    assert detect_language("How many companies?") == "en"
    assert detect_language("BDA 有多少企业") == "zh"
    assert is_traditional("經開區有多少企業")
    assert not is_traditional("经开区有多少企业")
    assert not is_traditional("hello")


def test_synonyms_map_to_canonical_across_languages() -> None:
    normalizer = Normalizer(
        [["etown", "e-town", "bda", "亦庄", "经开区", "beijing economic technological development area"]]
    )
    assert normalizer.normalize("BDA GDP") == "etown gdp"
    assert normalizer.normalize("E-Town gdp") == "etown gdp"
    assert normalizer.normalize("亦庄GDP") == "etown gdp"
    assert normalizer.normalize("經開區") == "etown"
    assert normalizer.normalize("Beijing Economic-Technological Development Area") == "etown"
    # Whole words only: "bdaxyz" is not "bda".
    assert normalizer.normalize("bdaxyz") == "bdaxyz"


def test_segmentation_of_chinese() -> None:
    normalizer = Normalizer([["etown", "经开区"]])
    tokens = normalizer.tokens(normalizer.normalize("经开区生物医药企业有多少"))
    assert tokens[0] == "etown"
    assert "企业" in tokens
    assert normalizer.segmented("") == ""


def test_words_keep_the_surface_of_stemmed_tokens() -> None:
    normalizer = Normalizer()
    assert normalizer.words("companies in 亦庄园区") == [
        ("compani", "companies"),
        ("in", "in"),
        ("亦庄", "亦庄"),
        ("园区", "园区"),
    ]
    assert normalizer.tokens("companies in 亦庄园区") == ["compani", "in", "亦庄", "园区"]


def test_zipf_tells_filler_from_rare_words() -> None:
    assert zipf("the") > 7 > zipf("considering") > zipf("suzhou")
    assert zipf("什么") > zipf("苏州") > 0
    assert zipf("biobay") == 0.0  # rarer than the lists hold


def test_synonyms_prefer_the_longest_term_and_respect_word_edges() -> None:
    normalizer = Normalizer([["park", "bda park", "bda园区"], ["etown", "bda"], ["zone", "zones"]])
    assert normalizer.normalize("bda park rents") == "park rents"  # the longer term wins over "bda"
    assert normalizer.normalize("bda园区租金") == "park 租金"  # a Chinese term that starts with Latin letters
    assert normalizer.normalize("bda offices") == "etown offices"
    assert normalizer.normalize("zones, ozones, zones2") == "zone ozones zones2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H1 2024", {"h1"}),
        ("first half of 2024", {"h1"}),
        ("Jan-Jun 2024", {"h1"}),
        ("2024年上半年", {"h1"}),
        ("1-6月", {"h1"}),
        ("second half of 2024", {"h2"}),
        ("2024年下半年", {"h2"}),
        ("Q1-Q3 2021", {"q1-q3"}),  # one range, not Q1 and Q3
        ("2021年1-9月", {"q1-q3"}),
        ("前三季度", {"q1-q3"}),
        ("Q3 2023", {"q3"}),
        ("第二季度", {"q2"}),
        ("in 2011-2016", set()),
        ("half of the companies", set()),
        ("", set()),
    ],
)
def test_periods_name_parts_of_a_year(text: str, expected: set[str]) -> None:
    assert periods(Normalizer().normalize(text)) == expected


def test_period_parts_are_each_periods_part_of_a_year_and_text() -> None:
    normalize = Normalizer().normalize
    assert period_parts(normalize("Output from Jan to Sep 2021, and in H1 2024?")) == [
        ("q1-q3", "jan to sep"),
        ("h1", "h1"),
    ]
    assert period_parts(normalize("2021年前三季度产值")) == [("q1-q3", "前三季度")]
    assert period_parts(normalize("how many companies")) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How many CGT firms are in Suzhou BioBAY?", ["cgt", "suzhou biobay"]),
        ("Is Pfizer in BDA?", ["pfizer", "bda"]),
        ("苏州有多少家企业", ["苏州"]),
        # a letter glued to a digit is a code (a half year, a quarter), not a name
        ("Clinical approvals in H1 2024", []),
        ("Output in Q1-Q3 2021", []),
        ("What came out of the partner meeting in Feb 2023?", []),  # a month is a date, not a name
    ],
)
def test_names_are_capitalised_words_acronyms_and_tagged_chinese_places(text: str, expected: list[str]) -> None:
    normalizer = Normalizer()
    assert normalizer.names(text) == [t for name in expected for t in normalizer.tokens(normalizer.normalize(name))]


def test_the_common_words_file_is_what_wordfreq_says() -> None:
    # Written by bot.matching.text.write_common_words: run it again after a wordfreq upgrade.
    from bot.matching.text import common_words, common_words_from_wordfreq

    assert common_words() == frozenset(common_words_from_wordfreq())
    assert {"office", "what", "多少"} <= common_words() and not {"rent", "hukou", "租金"} & common_words()
