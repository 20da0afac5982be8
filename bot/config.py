"""Configuration: defaults, an optional YAML file over them, and environment overrides.

Every problem is reported as one line naming the key (``matching.margin: must be a number ...``),
so a typo in ``config.yaml`` never shows a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_FILE = Path("config.yaml")
PACKAGED_FAQ_DIR = Path(__file__).resolve().parent.parent / "faq"


class ConfigError(Exception):
    """A configuration problem, already phrased for the user as one line."""


@dataclass(frozen=True)
class MatchingConfig:
    """Decision thresholds on the matcher's 0..1 score (calibrated with ``etown-bot eval --tune``)."""

    answer_threshold: float = 0.12
    suggest_threshold: float = 0.12
    margin: float = 0.12


@dataclass(frozen=True)
class WebhookConfig:
    url: str = ""
    listen: str = "0.0.0.0"  # noqa: S104 - a webhook listens on all interfaces behind its proxy
    port: int = 8443
    secret_token: str = ""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    api_base_url: str = ""
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


@dataclass(frozen=True)
class StaffConfig:
    admins: tuple[int, ...] = ()
    chat_id: int | None = None


@dataclass(frozen=True)
class LimitsConfig:
    questions_per_minute: int = 20
    # Updates of any kind (commands, button presses, questions) per user; admins get ten times this
    # (handlers/flood.py). One a second for a whole minute: the whole English tour of
    # tests/test_e2e.py (start, a topic, an answer, a vote, a did-you-mean, a hand-off) is 10
    # updates, while a script sends hundreds a minute.
    updates_per_minute: int = 60
    max_question_chars: int = 1000
    max_logged_chars: int = 4000
    # Messages the bot sends per second, all chats together: Telegram's limit for ordinary bots is
    # about 30; raise it only if Telegram granted more (paid broadcasts) or for a local Bot API server.
    outgoing_per_second: int = 30


@dataclass(frozen=True)
class Config:
    """The whole configuration; ``faq_dir`` None means the knowledge base shipped with the package."""

    faq_dir: Path | None = None
    database: Path = Path("data/etown-bot.sqlite3")
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    retention_days: int = 365
    log_level: str = "INFO"

    @property
    def knowledge_dir(self) -> Path:
        """The folder the knowledge base is loaded from."""
        return self.faq_dir if self.faq_dir is not None else PACKAGED_FAQ_DIR


# --- value checkers: each returns the converted value or raises ValueError with the reason ---


def _number(lo: float, hi: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise ValueError(f"must be a number between {lo:g} and {hi:g}")
        return float(value)

    return check


def _integer(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"must be a whole number between {lo} and {hi}")
        return value

    return check


def _string(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise ValueError("must be a text")
    return str(value).strip()


def _url(value: Any) -> str:
    text = _string(value)
    if text and not text.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return text


def _path(value: Any) -> Path:
    text = _string(value)
    if not text:
        raise ValueError("must be a path")
    return Path(text).expanduser()


def _optional_path(value: Any) -> Path | None:
    return None if value in (None, "") else _path(value)


def _chat_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a numeric Telegram chat id (groups are negative) or null")
    return value


def _admins(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValueError("must be a list of numeric Telegram user ids")
    return tuple(value)


def _log_level(value: Any) -> str:
    text = _string(value).upper()
    if text not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
    return text


# key path -> checker; the tree of dataclasses above is rebuilt from these.
_SCHEMA: dict[str, Callable[[Any], Any]] = {
    "faq_dir": _optional_path,
    "database": _path,
    "matching.answer_threshold": _number(0.0, 1.0),
    "matching.suggest_threshold": _number(0.0, 1.0),
    "matching.margin": _number(0.0, 1.0),
    "telegram.token": _string,
    "telegram.api_base_url": _url,
    "telegram.webhook.url": _url,
    "telegram.webhook.listen": _string,
    "telegram.webhook.port": _integer(1, 65535),
    "telegram.webhook.secret_token": _string,
    "staff.admins": _admins,
    "staff.chat_id": _chat_id,
    "limits.questions_per_minute": _integer(1, 10_000),
    "limits.updates_per_minute": _integer(1, 10_000),
    "limits.max_question_chars": _integer(50, 100_000),
    "limits.max_logged_chars": _integer(50, 1_000_000),
    "limits.outgoing_per_second": _integer(1, 100_000),
    "retention_days": _integer(1, 36_500),
    "log_level": _log_level,
}
_SECTIONS = {key.rsplit(".", 1)[0] for key in _SCHEMA if "." in key}


def _flatten(data: Mapping[str, Any], prefix: str, where: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if path in _SECTIONS:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {path}: must be a mapping of keys")
            flat.update(_flatten(value, f"{path}.", where))
        elif path in _SCHEMA:
            flat[path] = value
        else:
            raise ConfigError(f"{where}: {path}: unknown key")
    return flat


def _build(values: Mapping[str, Any]) -> Config:
    def pick(prefix: str) -> dict[str, Any]:
        return {
            key[len(prefix) :]: value
            for key, value in values.items()
            if key.startswith(prefix) and "." not in key[len(prefix) :]
        }

    webhook = WebhookConfig(**pick("telegram.webhook."))
    telegram = TelegramConfig(**pick("telegram."), webhook=webhook)
    return Config(
        **pick(""),
        matching=MatchingConfig(**pick("matching.")),
        telegram=telegram,
        staff=StaffConfig(**pick("staff.")),
        limits=LimitsConfig(**pick("limits.")),
    )


def parse_config(data: Any, where: str = "config") -> Config:
    """Build a Config from a parsed YAML document; keys it leaves out keep their defaults."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the file must be a mapping of keys (see config.example.yaml)")
    values: dict[str, Any] = {}
    for path, raw in _flatten(data, "", where).items():
        try:
            values[path] = _SCHEMA[path](raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: {path}: {exc} (got {raw!r})") from None
    config = _build(values)
    if config.matching.suggest_threshold > config.matching.answer_threshold:
        raise ConfigError(f"{where}: matching.suggest_threshold: must not exceed matching.answer_threshold")
    return config


def apply_environment(config: Config, environ: Mapping[str, str]) -> Config:
    """Apply ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_API_BASE_URL`` over the file's values."""
    telegram = config.telegram
    if token := environ.get("TELEGRAM_BOT_TOKEN", "").strip():
        telegram = replace(telegram, token=token)
    if base := environ.get("TELEGRAM_API_BASE_URL", "").strip():
        try:
            telegram = replace(telegram, api_base_url=_url(base))
        except ValueError as exc:
            raise ConfigError(f"TELEGRAM_API_BASE_URL: {exc} (got {base!r})") from None
    return replace(config, telegram=telegram)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load ``path`` (or ``./config.yaml`` when present, else defaults) and the environment.

    Relative ``faq_dir`` and ``database`` paths are taken relative to the current directory, as a
    user running ``etown-bot`` from the project folder expects.
    """
    environ = os.environ if environ is None else environ
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    data: Any = None
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{where}: no such config file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read: {exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{where}{line}: invalid YAML: {problem}") from None
    return apply_environment(parse_config(data, where), environ)
