"""The matcher's confidence: the estimated probability that a candidate entry is the right answer.

Each candidate gets a few signals (``Signals``); a logistic model over them (``Calibration``, fitted on
labelled questions by ``etown-bot eval --tune``) turns them into a probability. The same model is the
fusion of the signals: candidates are ranked by it. Every signal is relative or bounded (a cosine, a
share, a lead over the runner-up, an SVM margin), so one set of weights transfers between knowledge
bases of different sizes, which raw scores do not (a raw threshold of 0.12 on the FAQ was 0.19 on
CLINC150).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

from bot.config import Calibration


@dataclass(frozen=True)
class Signals:
    """What the matcher knows about one candidate for one question."""

    fused: float  # similarity: nearest phrasing, centroid and rapidfuzz, scaled by coverage (0..1)
    fused_margin: float  # ``fused`` minus the best other candidate's
    svm: float  # the classifier's decision value for this entry (0 without a classifier)
    svm_margin: float  # ``svm`` minus the best other entry's decision value
    coverage: float  # share of the question's weighted words the entry knows, to the coverage power (0..1)
    missing: float  # weight of the question's most important word the entry does not know (0..1): "Zhangjiang"
    foreign: float  # weight of the question's most important word no entry knows (0..1): "Wuxi", "苏州"
    year_missing: float  # 1 when the question names a year, or a part of one (H1, Q3), the entry does not
    # name, else 0
    unknown_name: float  # 1 when the question names a place or organisation the entry does not know: "Wuxi"
    information: float  # how much the question says (1 for a question with rare words, less for "why?")
    nearest: float  # cosine to the entry's closest phrasing

    def vector(self) -> tuple[float, ...]:
        # Not dataclasses.astuple: it deep-copies every field, a quarter of a question's matching time.
        return _VECTOR(self)


NAMES: tuple[str, ...] = tuple(f.name for f in fields(Signals))
_VECTOR = operator.attrgetter(*NAMES)  # one C call for every field, in NAMES order


@lru_cache(maxsize=64)
def _weights(calibration: Calibration) -> tuple[float, ...]:
    return tuple(getattr(calibration, name) for name in NAMES)


def probability(calibration: Calibration, signals: Signals) -> float:
    """P(this candidate is the right entry) under ``calibration``."""
    # The same products summed in the same order as field by field, so the same float: weights per
    # calibration are kept (``_weights``), each candidate's signals read in one call.
    z = calibration.intercept + sum(map(operator.mul, _weights(calibration), signals.vector()))
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit(rows: Sequence[Signals], labels: Sequence[bool], strength: float = 1.0) -> Calibration:
    """Fit the logistic weights on candidates labelled right (True) or wrong.

    ``strength`` is the inverse L2 penalty (scikit-learn's ``C``): the cases are few, so it stays modest.
    Rows are not re-weighted: the output must stay a probability, and wrong rows outnumber right ones
    because every runner-up is one.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if not rows or len(set(labels)) < 2:
        raise ValueError("fitting a calibration needs right and wrong candidates")
    x = np.array([r.vector() for r in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.int64)
    model = LogisticRegression(C=strength, max_iter=1000)
    model.fit(x, y)
    weights = {name: round(float(w), 4) for name, w in zip(NAMES, model.coef_[0], strict=True)}
    return Calibration(intercept=round(float(model.intercept_[0]), 4), **weights)
