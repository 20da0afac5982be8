"""A linear classifier over the knowledge base's phrasings: one class per entry, fitted at load.

The phrasings are labelled data. A linear SVM on the matcher's own TF-IDF vectors learns which n-grams
*separate* neighbouring entries ("GDP" from "GDP target", "talents" from "talent housing"), where the
similarity scores only see what a question shares with an entry. Its decision values are one of the
signals the calibrated confidence (``bot.matching.confidence``) fuses.

Weights are kept feature-major (features x entries): a query touches only its own n-grams' rows, so the
decision for every entry costs a gather of a few dozen rows, not a dense product.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

# Past these sizes the fit (one-vs-rest over every entry) and the weight matrix (features x entries, dense)
# cost more than the classifier is worth: the matcher then runs on its similarity signals alone.
MAX_CLASSES = 2_000
MAX_WEIGHTS = 40_000_000  # float32 cells: 160 MB


class EntryClassifier:
    """One-vs-rest linear SVM over phrasings' TF-IDF rows."""

    def __init__(self, matrix: sp.csr_matrix, owner: np.ndarray, n_classes: int, c: float = 1.0) -> None:
        """``matrix``: phrasings x features (L2-normalised rows); ``owner``: each row's entry index."""
        import numpy as np
        from sklearn.svm import LinearSVC

        if n_classes < 2:
            raise ValueError("a classifier needs at least two entries")
        # tol 1e-3 with at most 200 passes: the dual coordinate descent converges in a few dozen on FAQ data.
        model = LinearSVC(C=c, tol=1e-3, max_iter=200, dual=True)
        model.fit(matrix, owner)
        coef = np.asarray(model.coef_, dtype=np.float32)
        bias = np.asarray(model.intercept_, dtype=np.float32)
        if n_classes == 2:  # sklearn keeps one hyperplane for two classes: class 1 is its positive side
            coef = np.vstack([-coef, coef])
            bias = np.concatenate([-bias, bias])
        self._weights_t = np.ascontiguousarray(coef.T)  # features x entries
        self._bias = bias

    @staticmethod
    def fits(n_features: int, n_classes: int) -> bool:
        """Whether a knowledge base of this shape gets a classifier."""
        return 2 <= n_classes <= MAX_CLASSES and n_features * n_classes <= MAX_WEIGHTS

    def decision(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Decision value of every entry for the query vector (``columns``, ``values``; L2-normalised)."""
        decision: np.ndarray = values @ self._weights_t[columns] + self._bias
        return decision
