"""The entry classifier's cache (bot/matching/classifier.py): a restart of an unchanged knowledge base reads
the fitted weights back; anything else fits again and never fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from bot.matching import classifier
from bot.matching.classifier import EntryClassifier


def _data(seed: int) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((30, 12)) * (rng.random((30, 12)) > 0.6)
    dense[:, 0] += 0.01  # no empty rows
    matrix = sp.csr_matrix(dense / np.linalg.norm(dense, axis=1, keepdims=True))
    return matrix, np.arange(30) % 3


def _decisions(model: EntryClassifier) -> np.ndarray:
    return model.decision(np.array([0, 3, 5]), np.array([0.6, 0.6, 0.52], dtype=np.float32))


def test_second_fit_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matrix, owner = _data(1)
    first = EntryClassifier.fit(matrix, owner, 3, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 1

    def no_fit(*args: object) -> None:
        raise AssertionError("fitted again although the cache holds these weights")

    monkeypatch.setattr(classifier, "_fit", no_fit)
    again = EntryClassifier.fit(matrix, owner, 3, cache_dir=tmp_path)
    assert np.array_equal(_decisions(first), _decisions(again))


def test_other_phrasings_fit_anew_and_replace_the_old_file(tmp_path: Path) -> None:
    EntryClassifier.fit(*_data(1), 3, cache_dir=tmp_path)
    (old,) = tmp_path.glob("classifier-*.npz")
    EntryClassifier.fit(*_data(2), 3, cache_dir=tmp_path)
    (new,) = tmp_path.glob("classifier-*.npz")
    assert new != old


def test_a_broken_cache_file_is_refitted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    matrix, owner = _data(3)
    expected = _decisions(EntryClassifier.fit(matrix, owner, 3))
    EntryClassifier.fit(matrix, owner, 3, cache_dir=tmp_path)
    (path,) = tmp_path.glob("classifier-*.npz")
    path.write_bytes(b"not a numpy file")
    model = EntryClassifier.fit(matrix, owner, 3, cache_dir=tmp_path)
    assert np.allclose(_decisions(model), expected)
    assert "unreadable" in caplog.text


def test_an_unwritable_cache_only_costs_the_fit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    matrix, owner = _data(4)
    model = EntryClassifier.fit(matrix, owner, 3, cache_dir=blocker / "cache")
    assert np.allclose(_decisions(model), _decisions(EntryClassifier.fit(matrix, owner, 3)))
    assert "not written" in caplog.text
