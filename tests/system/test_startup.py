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
