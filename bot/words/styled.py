"""Words with emphasis, without any front end's markup: a template is plain text, or a tuple of plain
pieces and ``Span``s (``bold("Open questions")``). The core never writes markup: handlers/render.py
turns a template into Telegram HTML, and another front end would lay the spans out its own way.

Fields (``{title}``) may stand in any piece, a span's included; whoever fills them escapes the values
for their markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Style = Literal["bold", "italic", "code", "pre"]


@dataclass(frozen=True)
class Span:
    """``text`` shown in ``style``."""

    style: Style
    text: str


Styled = tuple[str | Span, ...]
Template = str | Styled  # what a message of bot/words is


def bold(text: str) -> Span:
    return Span("bold", text)


def italic(text: str) -> Span:
    return Span("italic", text)


def code(text: str) -> Span:
    """An identifier (an entry id), shown as code."""
    return Span("code", text)


def pre(text: str) -> Span:
    """A block to copy as it is (YAML), shown preformatted."""
    return Span("pre", text)


def pieces(template: Template) -> Styled:
    """The template as pieces: a plain one is a single piece."""
    return (template,) if isinstance(template, str) else template
