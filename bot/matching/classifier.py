"""A linear classifier over the knowledge base's phrasings: one class per entry, fitted at load.

The phrasings are labelled data. A linear SVM on the matcher's own TF-IDF vectors learns which n-grams
*separate* neighbouring entries ("GDP" from "GDP target", "talents" from "talent housing"), where the
similarity scores only see what a question shares with an entry. Its decision values are one of the
signals the calibrated confidence (``bot.matching.confidence``) fuses.

Weights are kept feature-major (features x entries): a query touches only its own n-grams' rows, so the
decision for every entry costs a gather of a few dozen rows, not a dense product.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

# Past these sizes the fit (one-vs-rest over every entry) and the weight matrix (features x entries, dense)
# cost more than the classifier is worth: the matcher then runs on its similarity signals alone.
MAX_CLASSES = 2_000
MAX_WEIGHTS = 40_000_000  # float32 cells: 160 MB
CACHE_VERSION = 1  # bump when the fit changes: old cache files are then never read

log = logging.getLogger(__name__)


class EntryClassifier:
    """One-vs-rest linear SVM over phrasings' TF-IDF rows."""

    def __init__(self, weights_t: np.ndarray, bias: np.ndarray) -> None:
        self._weights_t = weights_t  # features x entries
        self._bias = bias

    @classmethod
    def fit(
        cls, matrix: sp.csr_matrix, owner: np.ndarray, n_classes: int, c: float = 1.0, cache_dir: Path | None = None
    ) -> EntryClassifier:
        """Fit on ``matrix`` (phrasings x features, L2-normalised rows; ``owner``: each row's entry index).

        With ``cache_dir``, a fit of the very same matrix is read back instead of repeated: the fit is
        most of a large knowledge base's start (CLINC150, 15,000 phrasings: 14-17 s of a 19 s build, the
        index alone 4.6 s), and a restart or a reload of an unchanged knowledge base repeats it for nothing.
        The file is keyed by a digest of the matrix and labels, so an edited knowledge base never reads
        another's weights; a cache that cannot be read or written only costs the fit.
        """
        if cache_dir is None:
            return cls(*_fit(matrix, owner, n_classes, c))
        path = cache_dir / f"classifier-{_digest(matrix, owner, n_classes, c)}.npz"
        weights = _read(path, matrix.shape[1], n_classes)
        if weights is None:
            weights = _fit(matrix, owner, n_classes, c)
            _write(path, *weights)
        return cls(*weights)

    @staticmethod
    def fits(n_features: int, n_classes: int) -> bool:
        """Whether a knowledge base of this shape gets a classifier."""
        return 2 <= n_classes <= MAX_CLASSES and n_features * n_classes <= MAX_WEIGHTS

    def decision(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Decision value of every entry for the query vector (``columns``, ``values``; L2-normalised)."""
        decision: np.ndarray = values @ self._weights_t[columns] + self._bias
        return decision


def _fit(matrix: sp.csr_matrix, owner: np.ndarray, n_classes: int, c: float) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np
    from sklearn.svm import LinearSVC

    if n_classes < 2:
        raise ValueError("a classifier needs at least two entries")
    # tol 1e-3 with at most 200 passes: the dual coordinate descent converges in a few dozen on FAQ data.
    model = LinearSVC(C=c, tol=1e-3, max_iter=200, dual=True, random_state=0)  # the same fit every time
    model.fit(matrix, owner)
    coef = np.asarray(model.coef_, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=np.float32)
    if n_classes == 2:  # sklearn keeps one hyperplane for two classes: class 1 is its positive side
        coef = np.vstack([-coef, coef])
        bias = np.concatenate([-bias, bias])
    return np.ascontiguousarray(coef.T), bias


def _digest(matrix: sp.csr_matrix, owner: np.ndarray, n_classes: int, c: float) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION}:{matrix.shape}:{n_classes}:{c}".encode())
    for array in (matrix.data, matrix.indices, matrix.indptr, owner):
        h.update(array.tobytes())
    return h.hexdigest()[:32]


def _read(path: Path, n_features: int, n_classes: int) -> tuple[np.ndarray, np.ndarray] | None:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            weights_t, bias = data["weights_t"], data["bias"]
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, KeyError, ValueError) as exc:
        log.warning("classifier cache %s unreadable (%s): fitting again", path, exc)
        return None
    if weights_t.shape != (n_features, n_classes) or bias.shape != (n_classes,):
        log.warning("classifier cache %s has the wrong shape: fitting again", path)
        return None
    return weights_t, bias


def _write(path: Path, weights_t: np.ndarray, bias: np.ndarray) -> None:
    """Keep the fitted weights, dropping those of earlier knowledge bases."""
    import numpy as np

    from bot.cachefile import replace_atomically

    replace_atomically(
        path, lambda handle: np.savez(handle, weights_t=weights_t, bias=bias), "classifier-*.npz", "classifier cache"
    )
