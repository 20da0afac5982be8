"""Profiles and language choices."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Store


async def test_profiles_keep_language_and_refresh_names(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "log.sqlite3")
    try:
        assert await store.get_user(7) is None
        await store.set_user_lang(7, "zh")
        await store.remember_user(7, "Li", "li_invest")
        profile = await store.get_user(7)
        assert profile is not None
        assert (profile.lang, profile.first_name, profile.username) == ("zh", "Li", "li_invest")
        await store.remember_user(7, "Li Wei", None)
        await store.set_user_lang(7, "en")
        profile = await store.get_user(7)
        assert profile is not None
        assert (profile.lang, profile.first_name, profile.username) == ("en", "Li Wei", None)
        await store.remember_user(9, "", "")
        nine = await store.get_user(9)
        assert nine is not None and nine.first_name is None and nine.username is None and nine.lang is None
    finally:
        await store.close()
