"""Matcher speed, index build time and peak RSS at three knowledge-base sizes, each in a fresh process.

Sizes: the shipped knowledge base, CLINC150 (15,000 training phrasings, 150 intents; Larson et al.,
EMNLP-IJCNLP 2019, CC BY 3.0) and a synthetic 100,000-phrasing knowledge base made from CLINC150
(``synthetic_items``). The same process then times exhaustive rapidfuzz scans (``ratio``,
``token_set_ratio``) over the same phrasings with the same questions, after the matcher's figures and
its peak RSS were taken.

Usage: ``python -m benchmarks.scale SIZE [--quick]`` prints one JSON object (run by ``benchmarks.run``).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLINC = ROOT.parent / "shared" / "benchmarks" / "clinc150" / "data_train_val.json"
SIZES = ("shipped", "clinc150", "synthetic100k")
SYNTHETIC_INTENTS = 10_000
SYNTHETIC_PER_INTENT = 10
SYNTHETIC_SEED = 6


def _restart_build(size: str, kb: Any, items: Any) -> float | None:
    """The same build again with a classifier cache filled by a first one: what a restart of an unchanged
    knowledge base costs (None when the matcher fits no classifier at this size)."""
    import tempfile

    from bot.config import PACKAGED_FAQ_DIR
    from bot.knowledge.load import load_knowledge_base
    from bot.matching.matcher import Matcher

    with tempfile.TemporaryDirectory() as directory:
        cache = Path(directory)

        def build() -> Any:
            if size == "shipped":
                loaded = load_knowledge_base(PACKAGED_FAQ_DIR).kb
                assert loaded is not None
                return Matcher.from_knowledge_base(loaded, cache_dir=cache)
            return Matcher(items, cache_dir=cache)

        if build().classifier is None:
            return None
        start = time.perf_counter()
        build()
        return time.perf_counter() - start


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    ``VmHWM`` of this process image: ``ru_maxrss`` would carry over the parent's peak across fork + exec.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """Median and p99 (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(function: Callable[[str], object], questions: Sequence[str]) -> tuple[float, float]:
    """Median and p99 milliseconds per question."""
    samples = []
    for question in questions:
        start = time.perf_counter()
        function(question)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def load_clinc(path: Path) -> dict[str, list[tuple[str, str]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {split: [(str(text), str(intent)) for text, intent in data[split]] for split in ("train", "val", "oos_val")}


def synthetic_items(train: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """100,000 (intent, phrasing) pairs: 10,000 synthetic intents of 10 phrasings, recombined from CLINC150.

    Deterministic (``random.Random(SYNTHETIC_SEED)``). Synthetic intent k pairs two different CLINC150
    intents A and B; each of its phrasings is the first half of the words of a random phrasing of A
    followed by the second half of the words of a random phrasing of B. The vocabulary and phrasing
    lengths stay those of real user questions, and neighbouring intents share halves, as a large FAQ's do.
    """
    rng = random.Random(SYNTHETIC_SEED)
    by_intent: dict[str, list[list[str]]] = {}
    for text, intent in train:
        by_intent.setdefault(intent, []).append(text.split())
    intents = sorted(by_intent)
    items: list[tuple[str, str]] = []
    for k in range(SYNTHETIC_INTENTS):
        first, second = rng.sample(intents, 2)
        for _ in range(SYNTHETIC_PER_INTENT):
            a = rng.choice(by_intent[first])
            b = rng.choice(by_intent[second])
            words = a[: max(1, len(a) // 2)] + b[len(b) // 2 :]
            items.append((f"syn-{k:05d}", " ".join(words)))
    return items


def measure(size: str, quick: bool, clinc_path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    from rapidfuzz import fuzz, process

    from bot.config import PACKAGED_FAQ_DIR
    from bot.knowledge.load import load_knowledge_base
    from bot.matching.matcher import Matcher
    from bot.matching.text import clean

    imports_s = time.perf_counter() - start
    questions: list[str]
    if size == "shipped":
        from bot.matching.evaluate import load_cases

        questions = [case.q for case in load_cases(ROOT / "tests" / "data" / "eval.yaml")]
        rss_data = peak_rss_mb()
        start = time.perf_counter()
        kb = load_knowledge_base(PACKAGED_FAQ_DIR).kb
        assert kb is not None
        matcher = Matcher.from_knowledge_base(kb)
        build_s = time.perf_counter() - start
        build_what = "load + validate + index build"
    else:
        clinc = load_clinc(clinc_path)
        questions = [text for text, _ in clinc["val"][::3] + clinc["oos_val"]]
        train = [(intent, text) for text, intent in clinc["train"]]
        items = train if size == "clinc150" else synthetic_items(clinc["train"])
        rss_data = peak_rss_mb()
        start = time.perf_counter()
        matcher = Matcher(items)
        build_s = time.perf_counter() - start
        build_what = "index build"
    if quick:
        questions = questions[::3]
    matcher.rank(questions[0])  # first-call costs (lazy imports) are startup, not per-question time
    median, p99 = timed(matcher.rank, questions)
    rss_matcher = peak_rss_mb()
    restart_s = _restart_build(size, kb if size == "shipped" else None, items if size != "shipped" else None)
    phrasings = [clean(text) for text in matcher.phrasings]
    result: dict[str, Any] = {
        "size": size,
        "phrasings": len(matcher.phrasings),
        "entries": len(matcher.entry_ids),
        "questions": len(questions),
        "imports_s": imports_s,
        "build_s": build_s,
        "build_what": build_what,
        "restart_build_s": restart_s,
        "matcher_median_ms": median,
        "matcher_p99_ms": p99,
        "rss_before_build_mb": rss_data,
        "rss_peak_mb": rss_matcher,
        "scans": {},
    }
    # token_set_ratio is ~1 us per phrasing: at 100,000 phrasings, 100 ms a question, so fewer questions.
    budget = {"shipped": 400, "clinc150": 200, "synthetic100k": 60}[size] // (3 if quick else 1)
    for name, scorer in (("ratio", fuzz.ratio), ("token_set_ratio", fuzz.token_set_ratio)):
        sample = questions[: min(len(questions), budget)]

        def scan(question: str, scorer: Callable[..., float] = scorer) -> object:
            return process.extractOne(clean(question), phrasings, scorer=scorer)

        scan_median, scan_p99 = timed(scan, sample)
        result["scans"][name] = {"median_ms": scan_median, "p99_ms": scan_p99, "questions": len(sample)}
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("size", choices=SIZES)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clinc", type=Path, default=DEFAULT_CLINC)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.size, args.quick, args.clinc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
