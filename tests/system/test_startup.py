"""The command line starts without the heavy libraries it does not need (issue 13).

Each check runs in a fresh interpreter: this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.assistant import KnowledgeBaseInvalid, load_normalizer
from bot.matching.matcher import Matcher
from tests.conftest import MINI_KB

# Seconds to import, measured here: scikit-learn with scipy 0.5, matplotlib 0.3, numpy 0.1, rjieba 0.08
# (it builds a segmenter), wordfreq's lists 0.2 once loaded.
HEAVY = ("sklearn", "scipy", "numpy", "matplotlib", "wordfreq", "rjieba")


def _imported_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    return [name for name in HEAVY if name in loaded]


def test_help_imports_no_heavy_library() -> None:
    code = "import contextlib, io\nfrom bot.cli import main\nwith contextlib.suppress(SystemExit), "
    code += "contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    assert _imported_after(code) == []


@pytest.mark.parametrize("text", ["office rents near the subway?", "经开区有没有细胞治疗补贴？"])
def test_grouping_questions_needs_neither_scikit_learn_nor_word_frequencies(text: str) -> None:
    code = (
        "from bot.assistant import load_normalizer\nfrom bot.staff.queue import group_items\n"
        f"from pathlib import Path\nload_normalizer(Path({str(MINI_KB)!r})).segmented({text!r})"
    )
    # jieba is loaded for Chinese text only.
    assert _imported_after(code) == ([] if text.isascii() else ["rjieba"])


def test_load_normalizer_is_the_matchers_normalizer() -> None:
    from bot.knowledge.load import load_knowledge_base

    kb = load_knowledge_base(MINI_KB).kb
    assert kb is not None
    ours, matchers = load_normalizer(MINI_KB), Matcher.from_knowledge_base(kb).normalizer
    assert kb.synonyms  # the comparison means something only with synonyms
    for group in kb.synonyms:
        for term in group:
            for text in (term, f"What about {term} in 2025?", f"关于{term}的政策"):
                assert ours.segmented(text) == matchers.segmented(text)


def test_load_normalizer_refuses_an_invalid_knowledge_base(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("entries: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseInvalid):
        load_normalizer(tmp_path)


def test_a_warm_segmentation_cache_groups_chinese_without_jieba(tmp_path: Path) -> None:
    texts = ["经开区有没有细胞治疗补贴？", "怎么申请亦庄的人才公寓", "office rents near the subway?"]
    code = (
        "from pathlib import Path\nfrom bot.knowledge.synonyms import load_normalizer\n"
        f"n = load_normalizer(Path({str(MINI_KB)!r}), Path({str(tmp_path)!r}))\n"
        f"print(json.dumps([n.segmented(t) for t in {texts!r}]))\nn.segmentations.save()"
    )
    code = "import json\n" + code
    assert _imported_after(code) == ["rjieba"]  # cold: jieba segments, and the cache keeps its words
    assert _imported_after(code) == []  # warm: the same texts need no jieba
    segmented = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(segmented.stdout) == [load_normalizer(MINI_KB).segmented(t) for t in texts]


def test_cached_synonyms_are_the_loaded_ones_and_skip_the_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.knowledge import synonyms

    cache = tmp_path / "cache"
    loaded = synonyms.valid_synonyms(MINI_KB)
    assert loaded and synonyms.valid_synonyms(MINI_KB, cache) == loaded
    assert [p.name.split("-")[0] for p in cache.iterdir()] == ["synonyms"]

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("loaded the knowledge base again")

    monkeypatch.setattr(synonyms, "load_knowledge_base", no_load)
    assert synonyms.valid_synonyms(MINI_KB, cache) == loaded
    cached = load_normalizer(MINI_KB, cache)
    monkeypatch.undo()
    uncached = load_normalizer(MINI_KB)
    for text in ("What about yizhuang and bda in 2025?", "关于经开区的政策", "E-Town 亦庄"):
        assert cached.segmented(text) == uncached.segmented(text)


def test_load_normalizer_with_a_cache_refuses_a_knowledge_base_broken_since(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_normalizer(kb_copy, cache)
    synonyms = kb_copy / "synonyms.yaml"
    good = synonyms.read_text(encoding="utf-8")
    broken = good.replace("]", " ", 1)  # an unclosed list, and the same size as before
    assert broken != good and len(broken) == len(good)
    synonyms.write_text(broken, encoding="utf-8")
    for _ in range(2):  # a knowledge base with errors is never cached
        with pytest.raises(KnowledgeBaseInvalid) as refused:
            load_normalizer(kb_copy, cache)
        assert len(refused.value.result.errors) == 1
    # A valid change is loaded, not the synonyms cached before it.
    synonyms.write_text(good + "- [shuttle bus, 班车]\n", encoding="utf-8")
    assert load_normalizer(kb_copy, cache).normalize("班车") == "shuttle bus"
    assert len(list(cache.glob("synonyms-*.json"))) == 1  # the earlier knowledge base's synonyms are dropped


def test_the_synonym_cache_follows_the_loader_code_and_survives_garbage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.knowledge import synonyms

    cache = tmp_path / "cache"
    code = tmp_path / "validate.py"
    code.write_text("# a rule\n", encoding="utf-8")
    monkeypatch.setattr(synonyms, "_CODE_FILES", (code,))
    synonyms.valid_synonyms(MINI_KB, cache)
    (first,) = cache.glob("synonyms-*.json")
    code.write_text("# another rule\n", encoding="utf-8")  # new checks: the folder must be validated again
    synonyms.valid_synonyms(MINI_KB, cache)
    (second,) = cache.glob("synonyms-*.json")
    assert second != first
    second.write_text('{"synonyms": [["a", 1]]}', encoding="utf-8")
    assert synonyms.valid_synonyms(MINI_KB, cache) == synonyms.valid_synonyms(MINI_KB)
    assert "not a list of synonym groups" in caplog.text
    second.write_text("{not json", encoding="utf-8")
    assert synonyms.valid_synonyms(MINI_KB, cache) == synonyms.valid_synonyms(MINI_KB)
    assert "unreadable" in caplog.text


def test_the_segmentation_cache_keeps_no_text_and_only_what_was_used(tmp_path: Path) -> None:
    from bot.matching.segmentations import Segmentations, load_segmentations

    cache = tmp_path / "cache"
    first = load_segmentations(cache, ["经开区"])
    first.put("人才公寓", ["人才", "公寓"])
    first.put("申请", ["申", "请", "书"])  # not the run again: not kept
    first.put("补贴", ["补贴"])
    first.save()
    (path,) = cache.glob("segmentations-*.json")
    assert not any("\u4e00" <= char <= "\u9fff" for char in path.read_text(encoding="utf-8"))
    second = load_segmentations(cache, ["经开区"])
    assert (second.get("人才公寓"), second.get("申请"), second.get("公寓")) == (["人才", "公寓"], None, None)
    second.save()  # only 人才公寓 was used: 补贴 leaves the cache
    assert load_segmentations(cache, ["经开区"]).get("补贴") is None
    assert load_segmentations(cache, ["经开区", "亦庄"]).known == {}  # other taught words: other file
    path.write_text('{"cuts": {"x": [0]}}', encoding="utf-8")
    assert load_segmentations(cache, ["经开区"]).known == {}
    assert Segmentations(None).get("人才") is None
