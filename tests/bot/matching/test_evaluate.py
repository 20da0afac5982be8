"""Cross-validation and the operating point of ``etown-bot eval`` (bot/matching/evaluate.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import MatchingConfig
from bot.matching.evaluate import Case, Ranked, _grid, _steps, cross_validate, objective, report, tune
from bot.matching.matcher import Candidate
from tests.conftest import MINI_KB


def _random_ranked(seed: int, count: int = 120, oos_top: float = 0.5) -> list[Ranked]:
    """Cases with made-up candidate scores: right entries tend to score higher, as with a real matcher;
    out-of-scope questions' best scores reach ``oos_top``."""
    rng = random.Random(seed)
    ranked = []
    for i in range(count):
        expect = None if i % 4 == 0 else f"e{i % 7}"
        right = expect is not None and rng.random() < 0.8
        top = rng.uniform(0.3, 0.9) if right else rng.uniform(0.0, oos_top if expect is None else 0.5)
        first = Candidate(expect if right and expect else f"e{(i + 1) % 7}", top, "p")
        second = Candidate(f"e{(i + 3) % 7}", top * rng.uniform(0.3, 1.0), "p")
        ranked.append(Ranked(Case(f"q{i}", expect, i), (first, second)))
    return ranked


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_grid_agrees_with_report(seed: int) -> None:
    ranked = _random_ranked(seed)
    answers, margins = _steps(0.05, 0.9, 0.05), _steps(0.0, 0.2, 0.05)
    grid = _grid(ranked, answers, margins, 0.05)
    for (i, answer), (j, margin) in ((a, m) for a in enumerate(answers) for m in enumerate(margins)):
        figures = report(ranked, MatchingConfig(answer, answer, margin))
        assert grid[i, j] == (figures["out_of_scope_answered"] <= 0.05, objective(figures))


def test_operating_point_bounds_out_of_scope_answers() -> None:
    # Out-of-scope questions scoring as high as right answers: no threshold answers many without some.
    ranked = _random_ranked(4, oos_top=0.9)
    strict, loose = tune(ranked, max_oos_answered=0.0), tune(ranked, max_oos_answered=0.5)
    assert report(ranked, strict)["out_of_scope_answered"] == 0.0
    assert report(ranked, loose)["out_of_scope_answered"] > 0.0
    assert strict.answer_threshold > loose.answer_threshold


def test_cross_validation_decides_each_fold_with_thresholds_from_the_others() -> None:
    ranked = _random_ranked(5)
    figures = cross_validate(ranked, 4)
    assert figures["folds"] == 4 and figures["cases"] == len(ranked)
    # The in-sample figure tunes and scores on the same cases: cross-validation cannot beat it.
    in_sample = report(ranked, tune(ranked))
    assert objective(figures) <= objective(in_sample)
    assert figures["settings"] == in_sample["settings"]


def test_cross_validation_refuses_impossible_folds() -> None:
    with pytest.raises(ValueError, match="between 2"):
        cross_validate(_random_ranked(6, count=5), 6)


def _cases(tmp_path: Path) -> Path:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- {q: 'how many biotech firms in bda', expect: companies}\n"
        "- {q: 'number of biotech companies in e-town', expect: companies}\n"
        "- {q: 'bda support policies list', expect: policy-list}\n"
        "- {q: 'which policies support biotech in bda', expect: policy-list}\n"
        "- {q: 'weather in paris tomorrow', expect: null}\n"
        "- {q: 'best pizza near me', expect: null}\n"
    )
    return cases


def test_cli_folds_and_operating_point(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    code = main(["eval", "--cases", str(cases), "--faq", str(MINI_KB), "--folds", "3", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["folds"] == 3 and data["cases"] == 6
    assert set(data["settings"]) == {"answer_threshold", "suggest_threshold", "margin", "calibration"}
    code = main(["eval", "--cases", str(cases), "--faq", str(MINI_KB), "--tune", "--max-oos-answered", "0", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["out_of_scope_answered"] == 0.0 and "tuned" in data
    code = main(["eval", "--cases", str(cases), "--faq", str(MINI_KB), "--folds", "3"])
    assert code == 0 and "3-fold cross-validation" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--folds", "1"], "--folds must be between 2"), (["--folds", "7"], "--folds must be between 2")],
)
def test_cli_refuses_bad_folds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code = main(["eval", "--cases", str(_cases(tmp_path)), "--faq", str(MINI_KB), *argv])
    assert code == 2 and message in capsys.readouterr().err


def test_cli_refuses_a_share_out_of_range(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--cases", str(_cases(tmp_path)), "--faq", str(MINI_KB), "--tune", "--max-oos-answered", "1.5"])
    assert exit_info.value.code == 2
    assert "must be between 0 and 1" in capsys.readouterr().err


def test_near_misses_swap_one_key_word_for_one_no_entry_knows() -> None:
    from bot.config import PACKAGED_FAQ_DIR
    from bot.knowledge.load import load_knowledge_base
    from bot.matching.evaluate import near_miss_cases, synthetic_cases
    from bot.matching.matcher import Matcher

    kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
    assert kb is not None
    matcher = Matcher.from_knowledge_base(kb)
    cases = near_miss_cases(matcher)
    assert len(cases) == len(matcher.entry_ids)  # one per entry by default
    assert [c.q for c in cases] == [c.q for c in near_miss_cases(matcher)]  # deterministic
    normalizer = matcher.normalizer
    phrasings = {tuple(normalizer.tokens(normalizer.normalize(p))) for p in matcher.phrasings}
    for case in cases:
        assert case.expect is None
        tokens = normalizer.tokens(normalizer.normalize(case.q))
        foreign = [t for t in tokens if matcher.foreign_share(t) == 1.0]
        assert foreign, case.q  # the substitute: a word no entry knows, not even as a typo
        assert tuple(tokens) not in phrasings
    assert len(synthetic_cases(matcher)) == len(cases) + 200  # with the one-word background questions


def test_chat_cases_are_counted_apart_and_never_tuned_on() -> None:
    # ``expect: smalltalk`` / ``expect: unclear`` (issue 15): judged by the chat verdict alone
    ranked = _random_ranked(6)
    chat = [
        Ranked(Case("hello", "smalltalk", 900), (), chat="smalltalk"),
        Ranked(Case("thanks, and the gdp?", "smalltalk", 901), (Candidate("e1", 0.9, "p"),)),  # taken for a question
        Ranked(Case("?", "unclear", 902), (), chat="unclear"),
        Ranked(Case("hi, q1", None, 903), (), chat="smalltalk"),  # a question taken for small talk
    ]
    figures = report([*ranked, *chat], MatchingConfig())
    assert (figures["smalltalk"], figures["smalltalk_right"], figures["unclear"], figures["unclear_right"]) == (
        2,
        0.5,
        1,
        1.0,
    )
    assert figures["questions_as_chat"] == round(1 / (len(ranked) + 1), 4)
    assert figures["cases"] == len(ranked) + 4
    assert figures["in_scope"] + figures["out_of_scope"] == len(ranked) + 1
    assert tune([*ranked, *chat[:3]]) == tune(ranked)  # no entry to learn from: left out of the fit
    chat_misses = [m for m in figures["misses"] if m["line"] >= 900]
    assert [(m["q"], m["status"]) for m in chat_misses] == [("thanks, and the gdp?", "answered")]


def test_eval_reads_chat_expectations_and_reports_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        '- {q: "?", expect: unclear}\n- {q: "7", expect: unclear}\n'
        '- {q: "how many biotech companies in BDA?", expect: companies}\n'
    )
    assert main(["eval", "--faq", str(MINI_KB), "--cases", str(cases), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["unclear"], data["unclear_right"], data["smalltalk"], data["in_scope"]) == (2, 1.0, 0, 1)
    assert main(["eval", "--faq", str(MINI_KB), "--cases", str(cases)]) == 0
    assert "unclear recognised: 100.0% of 2" in capsys.readouterr().out
