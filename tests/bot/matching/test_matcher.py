from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import bot.matching.matcher as matcher_module
from bot.config import MatchingConfig
from bot.knowledge.model import KnowledgeBase
from bot.matching.matcher import Candidate, Matcher, decide, gap_part, known_part


@pytest.fixture
def matcher(mini_kb: KnowledgeBase) -> Matcher:
    return Matcher.from_knowledge_base(mini_kb)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how many biotech companies are there in bda", "companies"),
        ("Number of biotech firms in Yizhuang?", "companies"),
        ("亦庄生物医药企业有多少家", "companies"),
        ("經開區有多少家生物醫藥企業？", "companies"),  # Traditional
        ("whats in the suport policy list", "policy-list"),  # typos
        ("经开区支持政策清单", "policy-list"),
        ("1+N policies", "english-only"),
    ],
)
def test_ranks_the_right_entry_first(matcher: Matcher, question: str, expected: str) -> None:
    ranked = matcher.rank(question)
    assert ranked[0].entry_id == expected, ranked
    assert 0 < ranked[0].score <= 1


def test_scores_are_ordered_and_bounded(matcher: Matcher) -> None:
    ranked = matcher.rank("support policy list for biotech companies")
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    assert len({c.entry_id for c in ranked}) == len(ranked)


def test_nonsense_and_empty_questions(matcher: Matcher) -> None:
    assert matcher.rank("") == []
    assert matcher.rank("?!…") == []
    match = matcher.match("zzzz qqqq")  # keyboard mash: asked to rephrase, not handed to staff
    assert match.status == "unclear"
    assert match.entry_id is None and match.candidates == ()


def test_unrelated_question_is_not_answered(matcher: Matcher) -> None:
    assert matcher.match("what is the weather in paris tomorrow").status != "answered"


def test_long_question_is_truncated_not_rejected(matcher: Matcher) -> None:
    question = "How many biotech companies are in E-Town? " + "blah " * 2000
    assert matcher.rank(question)  # no exception, still ranked


def test_word_subset_does_not_score_perfectly(matcher: Matcher) -> None:
    # token_set_ratio would give 100 here; the fused score must not.
    assert matcher.rank("companies")[0].score < 0.9


def c(entry_id: str, score: float) -> Candidate:
    return Candidate(entry_id, score, "")


def test_decide_answer_needs_threshold_and_margin() -> None:
    settings = MatchingConfig(answer_threshold=0.6, suggest_threshold=0.3, margin=0.1)
    assert decide([c("a", 0.8), c("b", 0.5)], settings) == ("answered", ())
    status, suggestions = decide([c("a", 0.8), c("b", 0.75), c("x", 0.2)], settings)
    assert status == "suggested"
    assert [s.entry_id for s in suggestions] == ["a", "b"]  # below suggest_threshold is dropped
    assert decide([c("a", 0.5), c("b", 0.1)], settings)[0] == "suggested"
    assert decide([c("a", 0.2)], settings) == ("unanswered", ())
    assert decide([], settings) == ("unanswered", ())
    many = [c(str(i), 0.5) for i in range(6)]
    assert len(decide(many, settings)[1]) == 3


def test_index_needs_phrasings() -> None:
    with pytest.raises(ValueError, match="without phrasings"):
        Matcher([])


def test_filler_words_weigh_less_than_key_words(matcher: Matcher) -> None:
    """Words the phrasings do not use count by their rarity in general language (wordfreq)."""
    normalizer = matcher.normalizer
    weights = matcher.word_weights(normalizer.words(normalizer.normalize("we are considering suzhou companies")))
    assert weights["suzhou"] > 2 * weights["we"]
    assert weights["suzhou"] > weights["consid"] > weights["we"]
    # A known word keeps its idf among the phrasings unless it is common in general language.
    assert weights["compani"] <= matcher._token_idf["compani"]


def test_rendered_figures_count_as_known_words(matcher: Matcher) -> None:
    """The answer's figures (facts rendered into it) are in the entry's vocabulary: "5000" is not a new word."""
    companies = matcher.entry_ids.index("companies")
    assert "5000" in matcher._vocab[companies]


def test_unknown_key_word_costs_more_coverage_than_filler(matcher: Matcher) -> None:
    normalizer = matcher.normalizer
    companies = matcher.entry_ids.index("companies")

    def coverage(question: str) -> float:
        weights = matcher.word_weights(normalizer.words(normalizer.normalize(question)))
        share, _missing = matcher._coverage(matcher_module._with_grams(weights), sum(weights.values()), companies)
        return share

    inside = coverage("how many biotech companies are in yizhuang")
    padded = coverage("please how many biotech companies are in yizhuang")
    elsewhere = coverage("how many biotech companies are in suzhou")
    assert elsewhere < padded < inside
    assert (
        matcher.rank("how many biotech companies are in suzhou")[0].score
        < matcher.rank("how many biotech companies are in yizhuang")[0].score
    )


def test_the_words_of_a_period_are_matched_as_the_period_not_as_unknown_words() -> None:
    matcher = Matcher(
        [
            ("output-2021", "biotech output in January to September 2021"),
            ("output-2022", "biotech output in 2022"),
            ("parks", "which parks are there"),
        ],
        classify=False,
    )
    best = matcher.rank("Biotech output Jan to Sep 2021")[0]
    assert best.entry_id == "output-2021"
    assert best.signals is not None
    # "Jan" and "Sep" are neither words no entry knows nor names of somewhere else
    assert (best.signals.foreign, best.signals.missing, best.signals.unknown_name) == (0.0, 0.0, 0.0)
    assert best.signals.year_missing == 0.0
    # a period the entry does not name still counts against it
    other = matcher.rank("Biotech output Jul to Dec 2021")[0]
    assert other.signals is not None and other.signals.year_missing == 1.0


def test_the_knowledge_bases_own_words_have_their_misspellings_found_at_build_as_one_search_would() -> None:
    matcher = Matcher(
        [
            ("centre", "research centre awards for foreign companies"),
            ("center", "R&D center subsidies and rewards"),
            ("output", "biotech output of companies in 2021, recieved awards"),
        ],
        classify=False,
    )
    assert matcher._known_near  # every Latin word of 4+ letters
    assert all(len(word) >= 4 for word in matcher._known_near)
    for word, spellings in matcher._known_near.items():
        assert spellings == matcher._search(word), word
    assert dict(matcher._spellings("centre"))["center"] > 0.8
    assert matcher._spellings("subsidey") == matcher._search("subsidey")  # not a word it knows: searched


def test_a_question_about_what_an_answer_says_is_not_in_the_sources_goes_to_staff() -> None:
    matcher = Matcher(
        [
            ("housing", "what talent housing is there"),
            ("housing", "talent apartments in yizhuang"),
            ("housing", "人才公寓有哪些"),
            ("fund", "how big is the guidance fund"),
        ],
        classify=False,
        gaps=[("housing", "Rents and prices are not in our sources."), ("housing", "租金和价格暂无资料。")],
    )
    assert matcher._gap_words[matcher.entry_ids.index("housing")] == {"rent", "price", "租金"}
    for question in ("talent apartment rent in yizhuang", "人才公寓月租金多少"):
        best = matcher.rank(question)[0]
        assert best.entry_id == "housing" and best.gap, question
        assert matcher.match(question, MatchingConfig(answer_threshold=0.0, suggest_threshold=0.0)).status == (
            "unanswered"
        )
    assert not matcher.rank("what talent housing is there in yizhuang")[0].gap


def test_decide_never_answers_with_an_entry_whose_gap_the_question_names() -> None:
    settings = MatchingConfig(answer_threshold=0.5, suggest_threshold=0.2)
    assert decide([Candidate("housing", 0.99, "q", gap=True), Candidate("fund", 0.3, "q")], settings) == (
        "unanswered",
        (),
    )
    assert decide([Candidate("housing", 0.99, "q"), Candidate("fund", 0.3, "q")], settings)[0] == "answered"


def test_gap_part_is_what_known_part_leaves_out() -> None:
    text = "It offers 18,000 units. Rents and prices are not in our sources; staff can help."
    assert gap_part(text) == "Rents and prices are not in our sources;"
    assert (
        gap_part("提供超过18000套公租房。租金和价格暂无资料，可由招商工作人员解答。")
        == "租金和价格暂无资料，可由招商工作人员解答。"
    )
    assert gap_part("No gap here.") == ""


def test_sentences_naming_a_gap_in_the_sources_do_not_count_as_known() -> None:
    assert known_part("It offers 18,000 units. Rents and prices are not in our sources; staff can help.") == (
        "It offers 18,000 units. staff can help."
    )
    assert known_part("提供超过18000套公租房。租金和价格暂无资料，可由招商工作人员解答。") == "提供超过18000套公租房。"
    assert known_part("Output was 141 billion yuan; figures for 2022 are not available here.") == (
        "Output was 141 billion yuan;"
    )


@pytest.mark.parametrize("shape", [(300, 40), (2000, 700)])
def test_postings_product_equals_the_scipy_expression(shape: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    inverted = sp.random(*shape, density=0.05, format="csr", dtype=np.float32, random_state=4)
    for size in (1, 7, 40):
        columns = rng.choice(shape[0], size=size, replace=False).astype(np.int64)
        values = rng.random(size).astype(np.float32)
        expected = np.asarray(inverted[columns].T @ values, dtype=np.float32)
        assert np.allclose(matcher_module._postings_product(inverted, columns, values), expected, atol=1e-6)
    monkeypatch.setattr(matcher_module, "_sparsetools", None)  # a scipy without the private kernels
    assert np.allclose(matcher_module._postings_product(inverted, columns, values), expected, atol=1e-6)


def test_building_loads_the_word_frequencies_so_no_question_waits_for_them(mini_kb: KnowledgeBase) -> None:
    from bot.matching import text

    text._frequencies.cache_clear()
    Matcher.from_knowledge_base(mini_kb)
    assert text._frequencies.cache_info().currsize == 2  # English and Chinese


def test_a_bare_topic_is_offered_its_entries_when_no_entry_clears_the_bar() -> None:
    ranked = [Candidate("a", 0.10, "x"), Candidate("b", 0.05, "y"), Candidate("c", 0.01, "z")]
    settings = MatchingConfig(answer_threshold=0.9, suggest_threshold=0.3)
    assert decide(ranked, settings) == ("unanswered", ())
    assert decide(ranked, settings, frozenset({"c", "b"})) == ("suggested", (ranked[1], ranked[2]))
    # above the bar the thresholds decide, as for any question
    assert decide([Candidate("a", 0.95, "x")], settings, frozenset({"b"})) == ("answered", ())
