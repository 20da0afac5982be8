"""Keeping secrets (the bot token, the webhook secret) out of everything a command prints or logs.

The token is part of every Bot API URL (``/bot<token>/sendMessage``), so it turns up in httpx's request
lines, python-telegram-bot's debug messages, and any error message or traceback that quotes a URL.
``protect_logs`` covers log records; ``protected_output`` covers a whole command: log records, and
standard output and error themselves, so a message built from an exception is covered too.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO, cast

from bot.config import Config

REDACTED = "<redacted>"
# Loggers that print request URLs (with the token) at INFO and DEBUG.
URL_LOGGERS = ("httpx", "httpcore")


def config_secrets(config: Config) -> tuple[str, ...]:
    """The values no output may show, longest first.

    The token on its own too after the colon: the part before it is the bot's public id, and the
    secret half is what survives when a URL is percent-encoded (``%3A`` for the colon).
    """
    token = config.telegram.token
    values = [token, token.partition(":")[2], config.telegram.webhook.secret_token]
    return tuple(sorted({v for v in values if v}, key=len, reverse=True))


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token, the webhook secret) in log records, tracebacks included."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        # Longest first: a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        # Case-insensitive: python-telegram-bot capitalises error descriptions with str.capitalize(),
        # which lower-cases the rest, so a URL quoted by the server comes back with the token lower-cased.
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in self.secrets), re.IGNORECASE) if self.secrets else None
        )

    def clean(self, text: str) -> str:
        """``text`` with every secret (in any letter case) replaced by ``<redacted>``."""
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    _clean = clean  # the name handlers/app.py uses

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True

    # Equal filters are added once (logging.Filterer.addFilter checks ``in``): protecting twice is harmless.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, RedactSecrets) and other.secrets == self.secrets

    def __hash__(self) -> int:
        return hash(tuple(self.secrets))


def protect_logs(config: Config) -> None:
    """httpx logs every request URL, which contains the token: keep it to warnings, and redact anyway."""
    for name in URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    redact = RedactSecrets(config_secrets(config))
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


class RedactingStream(io.TextIOBase):
    """A text stream that writes to ``inner`` with the secrets replaced.

    ``fileno`` and ``isatty`` are the inner stream's, so ``input()`` still uses readline on a terminal.
    A secret split across two ``write`` calls would get through; ``print``, logging and tracebacks
    write a line's text in one call, and a token has no spaces or newlines to be split at.
    """

    def __init__(self, inner: TextIO, redact: RedactSecrets) -> None:
        super().__init__()
        self.inner = inner
        self._redact = redact

    def write(self, text: str) -> int:
        self.inner.write(self._redact.clean(text))
        return len(text)  # what the caller gave: they count their own characters

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.inner.closed:  # io's finaliser flushes too, perhaps after the inner stream was closed
            self.inner.flush()

    def fileno(self) -> int:
        return self.inner.fileno()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.inner.errors


@contextlib.contextmanager
def protected_output(config: Config) -> Iterator[RedactSecrets]:
    """For the ``with`` block: standard output and error redacted, and log records once logging is set up.

    Call ``protect_logs(config)`` inside the block after configuring logging, so the handlers it
    creates get the filter as well. Everything is put back on exit (the wrapped streams stay
    usable: a handler created inside keeps redacting into the original stream).
    """
    redact = RedactSecrets(config_secrets(config))
    if not redact.secrets:
        yield redact
        return
    saved_streams = sys.stdout, sys.stderr
    saved_levels = {name: logging.getLogger(name).level for name in URL_LOGGERS}
    if sys.stdout is not None:  # None without a console (pythonw, some service managers)
        sys.stdout = cast(TextIO, RedactingStream(sys.stdout, redact))
    if sys.stderr is not None:
        sys.stderr = cast(TextIO, RedactingStream(sys.stderr, redact))
    try:
        yield redact
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe must not hide the command's own outcome
                if stream is not None:
                    stream.flush()
        sys.stdout, sys.stderr = saved_streams
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redact)
