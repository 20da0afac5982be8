from __future__ import annotations

from pathlib import Path

import pytest

from bot.cachefile import replace_atomically


def test_a_new_generation_replaces_the_file_and_drops_the_old_ones(tmp_path: Path) -> None:
    old, other_kind = tmp_path / "thing-old.json", tmp_path / "other-1.json"
    old.write_text("old")
    other_kind.write_text("kept")
    new = tmp_path / "thing-new.json"
    replace_atomically(new, lambda handle: handle.write(b"new"), "thing-*.json", "thing cache")
    assert new.read_text() == "new"
    assert not old.exists() and other_kind.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_a_cache_that_cannot_be_written_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    replace_atomically(blocker / "cache" / "thing-1.json", lambda handle: handle.write(b"x"), "thing-*", "thing cache")
    assert "thing cache" in caplog.text and "not written" in caplog.text


def test_a_failing_writer_leaves_the_previous_generation(tmp_path: Path) -> None:
    kept = tmp_path / "thing-1.json"
    kept.write_text("kept")

    def broken(handle: object) -> None:
        raise OSError("disk full")

    replace_atomically(tmp_path / "thing-2.json", broken, "thing-*.json", "thing cache")
    assert kept.read_text() == "kept" and not (tmp_path / "thing-2.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["thing-1.json"]
