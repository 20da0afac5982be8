"""Reloading faq/ in a running bot: off the event loop, and an unexpected failure reported once."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bot.assistant
from bot.knowledge.load import load_knowledge_base
from handlers import admin
from handlers.context import Context
from tests.conftest import MINI_KB
from tests.handlers.test_staff_handlers import ADMIN, INVESTOR, STAFF, staff_config
from tests.telegram_harness import running_bot, sent

COMPANIES = "how many biotech companies in BDA?"


def touch(path: Path) -> None:
    """An edit that changes nothing an entry says (one more line break)."""
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def held(original: Callable[..., Any], started: threading.Event, release: threading.Event) -> Callable[..., Any]:
    """``original``, made slow: it signals that it started, then waits (at most 3 s) to be released."""

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(3)
        return original(*args, **kwargs)

    return slow


@pytest.mark.parametrize("step", ["load", "report"])
async def test_investors_are_answered_while_a_slow_reload_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Each step of a reload (reading and validating faq/ with the matcher build; comparing versions for
    the report) is held until the test lets it go: if it ran on the event loop, nothing else could run
    meanwhile and the investor would be answered only after the reload."""
    started, release = threading.Event(), threading.Event()
    if step == "load":
        monkeypatch.setattr(bot.assistant, "load_knowledge_base", held(load_knowledge_base, started, release))
    else:
        monkeypatch.setattr(admin, "describe_reload", held(admin.describe_reload, started, release))
    async with running_bot(staff_config(tmp_path)) as tg:
        reload = asyncio.create_task(tg.send(ADMIN, "/reload"))
        try:
            assert await asyncio.to_thread(started.wait, 5)
            answer = sent(await tg.send(INVESTOR, COMPANIES))
            assert not reload.done()  # the investor was served while the reload was still held
            assert "more than 5,000" in answer[0]["text"]
        finally:
            release.set()
        report = [m for m in sent(await reload) if int(m["chat_id"]) == ADMIN]
        assert report[-1]["text"].startswith("✅ Knowledge base reloaded")


async def test_reloads_take_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running, most = 0, 0
    original = load_knowledge_base

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        running += 1
        most = max(most, running)
        threading.Event().wait(0.2)
        running -= 1
        return original(*args, **kwargs)

    monkeypatch.setattr(bot.assistant, "load_knowledge_base", counted)
    async with running_bot(staff_config(tmp_path)) as tg:
        await asyncio.gather(*(admin.reload_knowledge(tg.services) for _ in range(3)))
    assert most == 1


async def test_an_unexpected_watcher_failure_is_reported_once_and_the_old_version_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(MINI_KB, faq)
    original = load_knowledge_base

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("matcher exploded")

    async with running_bot(staff_config(tmp_path, faq=faq)) as tg:
        context = Context(tg.app)
        monkeypatch.setattr(bot.assistant, "load_knowledge_base", broken)
        touch(faq / "entries.yaml")
        mark = tg.api.mark()
        with caplog.at_level(logging.INFO):
            for _ in range(4):  # the watcher runs every 5 s
                await admin.watch_faq(context)
        notices = [c.params["text"] for c in tg.api.calls[mark:] if c.method == "sendMessage"]
        assert len(notices) == 1 and int(tg.api.calls[mark].params["chat_id"]) == STAFF
        assert notices[0].startswith("faq/ changed on disk. ❌ Reload failed (RuntimeError: matcher exploded)")
        assert "last good version" in notices[0]
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(failures) == 1 and failures[0].exc_info is not None
        answer = sent(await tg.send(INVESTOR, COMPANIES))
        assert "more than 5,000" in answer[0]["text"]  # the last good version answers
        # /reload by hand says so too, rather than "something went wrong".
        report = sent(await tg.send(ADMIN, "/reload"))[0]["text"]
        assert report.startswith("❌ Reload failed (RuntimeError: matcher exploded)")
        # Fixed: the next edit reloads as usual.
        monkeypatch.setattr(bot.assistant, "load_knowledge_base", original)
        touch(faq / "entries.yaml")
        mark = tg.api.mark()
        await admin.watch_faq(context)
        (notice,) = [c.params["text"] for c in tg.api.calls[mark:] if c.method == "sendMessage"]
        assert notice.startswith("faq/ changed on disk. ✅ Knowledge base reloaded")


async def test_an_edit_during_a_load_is_seen_by_the_next_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(MINI_KB, faq)
    original = load_knowledge_base
    edited = False

    def edit_meanwhile(*args: Any, **kwargs: Any) -> Any:
        nonlocal edited
        result = original(*args, **kwargs)
        if not edited:  # staff save again while the first load runs
            edited = True
            touch(faq / "entries.yaml")
        return result

    async with running_bot(staff_config(tmp_path, faq=faq)) as tg:
        monkeypatch.setattr(bot.assistant, "load_knowledge_base", edit_meanwhile)
        context = Context(tg.app)
        touch(faq / "topics.yaml")
        await admin.watch_faq(context)
        assert tg.services.faq_signature != admin.faq_signature(faq)  # the second edit is still to load
        mark = tg.api.mark()
        await admin.watch_faq(context)
        assert [c for c in tg.api.calls[mark:] if c.method == "sendMessage"]
        assert tg.services.faq_signature == admin.faq_signature(faq)


def test_a_reload_reports_only_new_warnings(tmp_path: Path) -> None:
    # issue 17: each live reload repeated every standing warning in the staff chat
    faq = tmp_path / "faq"
    shutil.copytree(MINI_KB, faq)
    thin = "- id: thin-{n}\n  questions: {{en: [only one phrasing {n}]}}\n  answer: {{en: x}}\n"
    (faq / "thin.yaml").write_text(thin.format(n=1), encoding="utf-8")
    first = load_knowledge_base(faq)
    assert first.kb is not None and any("thin-1" in str(w) for w in first.warnings)
    (faq / "thin.yaml").write_text("\n\n" + thin.format(n=1) + thin.format(n=2), encoding="utf-8")
    second = load_knowledge_base(faq)
    report = admin.describe_reload(first.kb, second, first.warnings)
    assert "thin-2" in report and "thin-1" not in report  # moved two lines down: still the same warning
    standing = len(second.warnings) - sum("thin-2" in str(w) for w in second.warnings)
    assert f"({standing} earlier warning(s) not repeated" in report
    assert "1 new warning(s)" in report


def test_scheduler_lines_are_kept_for_debug() -> None:
    # issue 17: APScheduler's two INFO lines per job run (the faq/ watcher every 5 s) are DEBUG-only
    from bot.cli.main import quiet_scheduler

    root, scheduler = logging.getLogger(), logging.getLogger("apscheduler")
    saved = root.level, scheduler.level
    try:
        root.setLevel(logging.INFO)
        scheduler.setLevel(logging.NOTSET)
        quiet_scheduler()
        assert not scheduler.isEnabledFor(logging.INFO) and scheduler.isEnabledFor(logging.WARNING)
        root.setLevel(logging.DEBUG)
        scheduler.setLevel(logging.NOTSET)
        quiet_scheduler()
        assert scheduler.isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(saved[0])
        scheduler.setLevel(saved[1])
