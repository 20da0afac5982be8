from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PACKAGED_FAQ_DIR, Config, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config == Config()
    assert config.knowledge_dir == PACKAGED_FAQ_DIR


def test_reads_config_yaml_in_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "matching: {margin: 0.1}\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}).matching.margin == 0.1


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "staff: {admins: [1, 2]}\ntelegram: {webhook: {port: 9000}}\n"), environ={})
    assert config.staff.admins == (1, 2)
    assert config.telegram.webhook.port == 9000
    assert config.telegram.webhook.listen == "0.0.0.0"
    assert config.matching == Config().matching


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("matching: {answer_threshold: 2}\n", "matching.answer_threshold"),
        ("matching: {margin: yes}\n", "matching.margin"),
        ("limits: {questions_per_minute: 0}\n", "limits.questions_per_minute"),
        ("telegram: {api_base_url: ftp://x}\n", "telegram.api_base_url"),
        ("staff: {admins: [abc]}\n", "staff.admins"),
        ("staff: {chat_id: group}\n", "staff.chat_id"),
        ("telegram: {webhook: {port: 70000}}\n", "telegram.webhook.port"),
        ("matching: {treshold: 0.5}\n", "matching.treshold"),
        ("colour: blue\n", "colour"),
        ("matching: 5\n", "matching"),
        ("matching: {answer_threshold: 0.3, suggest_threshold: 0.6}\n", "matching.suggest_threshold"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    message = str(info.value)
    assert f": {key}:" in message
    assert "\n" not in message


def test_invalid_yaml_gives_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: invalid YAML"):
        load_config(write(tmp_path, "matching:\n  margin: [\n"), environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_environment_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "telegram: {token: from-file, api_base_url: 'http://a/bot'}\n")
    config = load_config(path, environ={"TELEGRAM_BOT_TOKEN": "123:env", "TELEGRAM_API_BASE_URL": "http://b/bot"})
    assert config.telegram.token == "123:env"
    assert config.telegram.api_base_url == "http://b/bot"
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE_URL"):
        load_config(path, environ={"TELEGRAM_API_BASE_URL": "not a url"})


def test_example_config_is_valid_and_complete() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    config = load_config(example, environ={})
    # The example documents the defaults, so loading it changes nothing.
    assert config == Config()


def test_updates_per_minute_defaults_to_60_and_can_be_set(tmp_path: Path) -> None:
    assert Config().limits.updates_per_minute == 60
    config = load_config(write(tmp_path, "limits: {updates_per_minute: 120}\n"), environ={})
    assert config.limits.updates_per_minute == 120
    assert config.limits.questions_per_minute == 20
    for bad in ("0", "many", "1.5"):
        with pytest.raises(
            ConfigError, match=r": limits\.updates_per_minute: must be a whole number between 1 and 10000"
        ):
            load_config(write(tmp_path, f"limits: {{updates_per_minute: {bad}}}\n"), environ={})


def test_every_problem_is_reported_at_once_one_line_each(tmp_path: Path) -> None:
    # A first start with a hand-edited file should not become one fix-and-retry round per typo.
    text = "matching: {margin: lots}\nlimits: {questions_per_minute: 0}\ncolour: blue\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    where = str(tmp_path / "config.yaml")
    assert str(info.value).splitlines() == [
        f"{where}: matching.margin: must be a number between 0 and 1 (got 'lots')",
        f"{where}: limits.questions_per_minute: must be a whole number between 1 and 10000 (got 0)",
        f"{where}: colour: unknown key",
    ]
