"""Stand-in Telegram Bot API HTTP server for tests.

It speaks the api.telegram.org wire protocol (``/bot<token>/<method>``, GET or POST, bodies
form-encoded, JSON or multipart) for the methods the etown bot uses, keeps a record of every
call, queues updates for ``getUpdates`` long polling and can inject faults.

In-process use::

    with FakeBotAPI() as api:
        app = Application.builder().token(api.token).base_url(api.base_url).build()
        ...
        api.push_update(api.message_update(42, "/start"))
        call = api.wait_for("sendMessage")

Standalone: ``python -m tests.botapi_server --port 8081`` prints the base URL, then pushes one
update per line of standard input (see ``_main``).

Choices worth knowing:

* Text and caption lengths are counted in UTF-16 code units after entity parsing and trimming,
  the same unit Telegram uses for entity offsets. This is at least as strict as Telegram
  (which never counts more units than that), so text accepted here is accepted there.
* HTML follows Telegram's rules: only its tags, ``&lt; &gt; &amp; &quot;`` and numeric
  character references are decoded; any other ``&`` stays literal (as in TDLib); every ``<``
  must start a supported tag. Markdown/MarkdownV2 text is accepted unchecked.
* ``editMessageText`` without ``reply_markup`` removes the inline keyboard, and an edit that
  changes nothing is refused with "message is not modified", as on Telegram.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

JSONDict = dict[str, Any]
ChatId = int | str
CallPredicate = Callable[["Call"], bool]
_T = TypeVar("_T")

DEFAULT_TOKEN = "1234567890:AAEtownFakeTokenForTests_0123456789ab"
TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
BOT_USERNAME = "etown_test_bot"
BOT_FIRST_NAME = "Etown Test Bot"
MAX_TEXT_UNITS = 4096
MAX_CAPTION_UNITS = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_CHARS = 200
DEFAULT_GROUP_ID = -4_000_000_001
DEFAULT_SUPERGROUP_ID = -1_001_000_000_001
DEFAULT_CHANNEL_ID = -1_001_000_000_002
FIRST_UPDATE_ID = 100_000_001


def _words(text: str) -> frozenset[str]:
    """A set of space-separated names."""
    return frozenset(text.split())


_ALL_UPDATE_TYPES = _words(
    "message edited_message channel_post edited_channel_post business_connection business_message "
    "edited_business_message deleted_business_messages message_reaction message_reaction_count "
    "inline_query chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_member chat_join_request chat_boost "
    "removed_chat_boost"
)
_DEFAULT_UPDATE_TYPES = _ALL_UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
_JSON_KEYS = _words(
    "reply_markup allowed_updates commands scope results entities caption_entities link_preview_options "
    "reply_parameters media button menu_button options prices"
)
_INT_KEYS = _words(
    "message_id offset limit timeout user_id cache_time reply_to_message_id message_thread_id "
    "max_connections from_chat_id duration width height"
)
_BOOL_KEYS = _words(
    "disable_notification protect_content show_alert is_personal drop_pending_updates "
    "allow_sending_without_reply disable_web_page_preview has_spoiler disable_content_type_detection "
    "show_caption_above_media allow_paid_broadcast"
)
_CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)
_HTML_TAGS = _words("b strong i em u ins s strike del a code pre tg-spoiler span blockquote tg-emoji")
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}(?!\w)")
_URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """The JSON body Telegram would send."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One recorded request. ``status``/``response`` are filled once the answer is produced."""

    index: int
    method: str
    params: JSONDict
    time: float
    token: str
    http_method: str
    content_type: str
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    response: JSONDict | None = None

    def __iter__(self) -> Iterator[Any]:
        """Unpack as ``method, params, time``."""
        return iter((self.method, self.params, self.time))

    @property
    def result(self) -> Any:
        """The ``result`` of the answer, if it was successful."""
        return None if self.response is None else self.response.get("result")


@dataclass
class Upload:
    """A file the bot sent (sendDocument/sendPhoto)."""

    method: str
    chat_id: int
    field: str
    filename: str | None
    content_type: str | None
    data: bytes
    reference: str | None
    caption: str | None
    message: JSONDict


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int
    drop: bool


@dataclass
class _Request:
    token: str
    method: str
    params: JSONDict
    files: dict[str, UploadedFile]

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])


@dataclass
class _Reply:
    result: Any
    description: str | None = None


def _copy(value: _T) -> _T:
    """Deep copy of JSON data."""
    copied: _T = json.loads(json.dumps(value))
    return copied


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, Telegram's unit for lengths and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML parsing


def _decode_ref(text: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[i] == '&'``; None if it is not one Telegram knows."""
    end = text.find(";", i + 1, i + 12)
    if end < 0:
        return None
    name = text[i + 1 : end]
    if name in _NAMED_REFS:
        return _NAMED_REFS[name], end + 1
    try:
        if re.fullmatch(r"#[0-9]{1,7}", name):
            return chr(int(name[1:])), end + 1
        if re.fullmatch(r"#[xX][0-9a-fA-F]{1,6}", name):
            return chr(int(name[2:], 16)), end + 1
    except (ValueError, OverflowError):
        return None
    return None


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into plain text and entities, or raise ApiError 400."""

    def fail(reason: str) -> ApiError:
        return _bad(f"can't parse entities: {reason}")

    def byte_at(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    out: list[str] = []
    units = 0
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[JSONDict] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            ref = _decode_ref(text, i)
            if ref is not None:
                out.append(ref[0])
                units += utf16_len(ref[0])
                i = ref[1]
                continue
        if ch != "<":
            out.append(ch)
            units += utf16_len(ch)
            i += 1
            continue
        start = i
        i += 1
        if i < n and text[i] == "/":
            i += 1
            name_start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            end_name = text[name_start:i].lower()
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise fail(f"Unclosed end tag at byte offset {byte_at(start)}")
            i += 1
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_at(start)}")
            tag, attrs, offset = stack.pop()
            if end_name and end_name != tag:
                raise fail(
                    f'Unmatched end tag at byte offset {byte_at(start)}, expected "</{tag}>", found "</{end_name}>"'
                )
            if units > offset:
                _close_entity(entities, tag, attrs, offset, units - offset, "".join(out))
            continue
        name_start = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_at(start)}")
        tag = text[name_start:i].lower()
        if tag not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{tag}" at byte offset {byte_at(start)}')
        attrs, i = _parse_attributes(text, i, tag, start, fail, byte_at)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_at(start)}')
        stack.append((tag, attrs, units))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # kept only while a <pre> could still absorb it
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(
    text: str,
    i: int,
    tag: str,
    start: int,
    fail: Callable[[str], ApiError],
    byte_at: Callable[[int], int],
) -> tuple[dict[str, str], int]:
    """Parse ``name=value`` pairs up to and including the closing ``>``."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_at(start)}")
        if text[i] == ">":
            return attrs, i + 1
        attr_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>/\"'":
            i += 1
        attr = text[attr_start:i].lower()
        if not attr:
            raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {byte_at(start)}')
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_at(start)}')
        if text[i] != "=":
            attrs[attr] = ""
            continue
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_at(start)}')
        if text[i] in "\"'":
            quote = text[i]
            i += 1
            value: list[str] = []
            while i < n and text[i] != quote:
                ref = _decode_ref(text, i) if text[i] == "&" else None
                if ref is not None:
                    value.append(ref[0])
                    i = ref[1]
                else:
                    value.append(text[i])
                    i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {byte_at(start)}")
            i += 1
            attrs[attr] = "".join(value)
        else:
            value_start = i
            while i < n and (text[i].isalnum() or text[i] in ".-_"):
                i += 1
            if i < n and not text[i].isspace() and text[i] != ">":
                raise fail(f"Unexpected end of name token at byte offset {byte_at(i)}")
            attrs[attr] = text[value_start:i].lower()


def _close_entity(
    entities: list[JSONDict], tag: str, attrs: dict[str, str], offset: int, length: int, so_far: str
) -> None:
    """Append the entity for a closed tag (merging <pre><code class=language-x>)."""
    if tag == "a":
        href = attrs.get("href") or so_far[-length:]
        entities.append({"type": "text_link", "offset": offset, "length": length, "url": href})
        return
    if tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
        return
    if tag == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise _bad("can't parse entities: Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": emoji_id})
        return
    entity: JSONDict = {"type": _SIMPLE_ENTITY[tag], "offset": offset, "length": length}
    language = attrs.get("class", "")
    if tag == "code" and language.startswith("language-"):
        entity["language"] = language.removeprefix("language-")
    if tag == "pre" and entities:
        last = entities[-1]
        if last["type"] == "code" and last["offset"] == offset and last["length"] == length:
            entities.pop()
            if "language" in last:
                entity["language"] = last["language"]
    entities.append(entity)


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace like Telegram, shifting/clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[JSONDict] = []
    for entity in entities:
        begin = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > begin:
            kept.append({**entity, "offset": begin, "length": end - begin})
    return stripped, kept


def detect_entities(text: str) -> list[JSONDict]:
    """Entities Telegram finds by itself: bot commands, @mentions and URLs."""
    found: list[JSONDict] = []
    for kind, pattern in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE), ("url", _URL_RE)):
        for match in pattern.finditer(text):
            found.append({"type": kind, "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group())})
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return found


def _merge_detected(text: str, entities: list[JSONDict]) -> list[JSONDict]:
    """Add auto-detected entities that do not overlap given ones."""
    merged = list(entities)
    for auto in detect_entities(text):
        a0, a1 = auto["offset"], auto["offset"] + auto["length"]
        if all(a1 <= e["offset"] or a0 >= e["offset"] + e["length"] for e in entities):
            merged.append(auto)
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return merged


# --------------------------------------------------------------------------- request parsing


def _split_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``form-data; name="x"; filename="y"`` into its parts (httpx/RFC 7578 quoting)."""
    head, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in re.finditer(r'\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)\s*;?', rest):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1]).replace("%22", '"')
        if key.endswith("*"):
            key = key[:-1]
            charset, _, encoded = raw.partition("''")
            raw = unquote(encoded, encoding=charset or "utf-8")
        params[key] = raw
    return head.strip().lower(), params


def parse_multipart(body: bytes, content_type: str) -> tuple[JSONDict, dict[str, UploadedFile]]:
    """Parse a multipart/form-data body into text fields and file parts."""
    _, ct_params = _split_header_params(content_type)
    boundary = ct_params.get("boundary")
    if not boundary:
        raise _bad("multipart boundary is missing")
    fields: JSONDict = {}
    files: dict[str, UploadedFile] = {}
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    for chunk in (b"\r\n" + body).split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        _, _, part = chunk.partition(b"\r\n")
        raw_headers, _, data = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        _, disposition = _split_header_params(headers.get("content-disposition", ""))
        field_name = disposition.get("name")
        if field_name is None:
            continue
        if "filename" in disposition:
            files[field_name] = UploadedFile(
                field=field_name,
                filename=disposition["filename"],
                content_type=headers.get("content-type", "application/octet-stream"),
                data=data,
            )
        else:
            fields[field_name] = data.decode("utf-8", "replace")
    return fields, files


def _chat_id_value(raw: Any) -> ChatId:
    if isinstance(raw, bool):
        raise _bad("chat not found")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"@[A-Za-z0-9_]{4,32}", text):
        return text
    if not text:
        raise _bad("chat_id is empty")
    raise _bad("chat not found")


def normalize_params(raw: JSONDict) -> JSONDict:
    """Decode JSON-valued fields and coerce well-known integer/boolean fields."""
    params: JSONDict = {}
    for key, value in raw.items():
        if key in _JSON_KEYS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if key == "reply_markup":
                    raise _bad("can't parse reply keyboard markup JSON object") from None
                raise _bad(f"can't parse {key} JSON object") from None
        elif key == "chat_id" and value is not None:
            value = _chat_id_value(value)
        elif key in _INT_KEYS and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        elif key in _BOOL_KEYS and isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            value = value.lower() in ("true", "1")
        params[key] = value
    return params


def _int_param(params: JSONDict, key: str, default: int | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(float(str(value)))
    except ValueError:
        raise _bad(f"invalid {key} specified") from None


def _text_param(params: JSONDict, key: str) -> str | None:
    value = params.get(key)
    return None if value is None else str(value)


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its FakeBotAPI and its open connections."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 overflows when a client opens many connections at once (httpx
    # opens up to its pool size); the kernel then drops handshakes and the client sees resets.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: FakeBotAPI) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Refuse (close at once) while refuse_connections is active."""
        return not self.api.refusing

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so stop()/refuse_connections() can cut it."""
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        """Shut down every open connection."""
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-request are normal here; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into FakeBotAPI dispatches."""

    server: _Server
    protocol_version = "HTTP/1.1"
    # One write per response (headers and body are buffered; BaseHTTPRequestHandler flushes after each
    # request) and no Nagle delay: otherwise the body waits for the client's delayed ACK of the headers,
    # about 40 ms per answer on Linux, which no real Bot API front end adds.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """Telegram's front end announces itself as nginx."""
        return "nginx/1.18.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging."""

    def do_GET(self) -> None:
        """GET /bot<token>/<method>?..."""
        self._handle()

    def do_POST(self) -> None:
        """POST /bot<token>/<method>."""
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        api = self.server.api
        if api.refusing:
            self.close_connection = True
            return
        body = self._read_body()
        url = urlsplit(self.path)
        content_type = self.headers.get("Content-Type", "")
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)/?", url.path)
        if match is None:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        raw: JSONDict = dict(parse_qsl(url.query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        error: ApiError | None = None
        try:
            raw.update(self._parse_body(body, content_type, files))
        except ApiError as exc:
            error = exc
        outcome = api._dispatch(
            token=unquote(match.group(1)),
            method=unquote(match.group(2)),
            raw=raw,
            files=files,
            http_method=self.command,
            content_type=content_type.split(";")[0].strip().lower(),
            parse_error=error,
        )
        if outcome is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(*outcome)

    @staticmethod
    def _parse_body(body: bytes, content_type: str, files: dict[str, UploadedFile]) -> JSONDict:
        if not body:
            return {}
        kind = content_type.split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                data = json.loads(body.decode("utf-8"))
            except ValueError:
                raise _bad("can't parse JSON encoded request parameters") from None
            if not isinstance(data, dict):
                raise _bad("JSON object expected as request parameters")
            return data
        if kind == "multipart/form-data":
            fields, parsed = parse_multipart(body, content_type)
            files.update(parsed)
            return fields
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def _send(self, status: int, payload: JSONDict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


# --------------------------------------------------------------------------- the fake API


class FakeBotAPI:
    """In-process fake of api.telegram.org with a test-control API."""

    def __init__(
        self,
        *,
        expected_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        on_call: Callable[[Call], None] | None = None,
    ) -> None:
        """``expected_token`` None accepts any well-formed token; ``port`` 0 picks a free one."""
        self.expected_token = expected_token
        self.host = host
        self.port = port
        self.on_call = on_call
        self._cond = threading.Condition(threading.RLock())
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._handlers: dict[str, Callable[[_Request], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda _req: True,
            "close": lambda _req: True,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendDocument": lambda req: self._send_file(req, "document"),
            "sendPhoto": lambda req: self._send_file(req, "photo"),
            "sendChatAction": self._send_chat_action,
        }
        self._canonical = {name.lower(): name for name in self._handlers}
        self._call_changes = 0  # bumped whenever a call is recorded or answered (and on reset); never reset
        self._reset_state()

    def _reset_state(self) -> None:
        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}
        self._consumed: set[int] = set()
        self._updates: list[JSONDict] = []
        self._next_update_id = FIRST_UPDATE_ID
        self._poll_generation = 0
        self._allowed_updates: list[str] | None = None
        self._webhook: JSONDict | None = None
        self._message_counters: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._sent: list[tuple[int, int]] = []
        self._uploads: list[Upload] = []
        self._chats: dict[int, JSONDict] = {}
        self._usernames: dict[str, int] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._open_queries: set[str] = set()
        self._answers: list[JSONDict] = []
        self._faults: list[tuple[str, _Fault]] = []
        self._delays: dict[str, float] = {}
        self._blocked: dict[int, str] = {}
        self._refuse_until = 0.0
        self._id_counter = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    @property
    def token(self) -> str:
        """A token this server accepts."""
        return self.expected_token or DEFAULT_TOKEN

    @property
    def base_url(self) -> str:
        """Value for ``base_url`` in PTB: ``http://127.0.0.1:PORT/bot``."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return f"http://{self.host}:{self.port}/bot"

    @property
    def running(self) -> bool:
        """Whether the HTTP server is up."""
        return self._server is not None

    def start(self) -> FakeBotAPI:
        """Bind (a free port the first time, the same port on restart) and serve in a thread."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeBotAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release long polls and cut open connections. State is kept."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        server.cut_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def reset(self) -> None:
        """Forget all calls, updates, messages, faults and settings."""
        with self._cond:
            generation = self._poll_generation
            self._reset_state()
            self._poll_generation = generation + 1  # a long poll still waiting ends with 409
            self._call_changes += 1
            self._cond.notify_all()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with an error."""
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status) or _phrase(status)
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        fault = _Fault(status, description, retry_after if status == 429 else None, times, drop=False)
        with self._cond:
            self._faults.append((self._canon(method), fault))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` calls of ``method``."""
        with self._cond:
            self._faults.append((self._canon(method), _Fault(0, "", None, times, drop=True)))

    def set_delay(self, method: str, seconds: float) -> None:
        """Sleep ``seconds`` before answering ``method`` ("*" = any); 0 removes the delay."""
        with self._cond:
            if seconds > 0:
                self._delays[self._canon(method)] = seconds
            else:
                self._delays.pop(self._canon(method), None)

    def refuse_connections(self, seconds: float) -> None:
        """For ``seconds``, close every connection (new and open) without answering."""
        with self._cond:
            self._refuse_until = time.monotonic() + seconds
        if self._server is not None:
            self._server.cut_connections()

    @property
    def refusing(self) -> bool:
        """Whether refuse_connections is in force."""
        return time.monotonic() < self._refuse_until

    def block_chat(self, chat_id: ChatId, description: str | None = None) -> None:
        """Answer 403 to every call addressed to ``chat_id``."""
        resolved = self._resolve_chat(chat_id)
        if description is None:
            description = "Forbidden: bot was blocked by the user"
            if resolved < 0:
                kind = self._chats.get(resolved, {}).get("type", "group")
                description = (
                    "Forbidden: bot is not a member of the channel chat"
                    if kind == "channel"
                    else f"Forbidden: bot was kicked from the {kind} chat"
                )
        with self._cond:
            self._blocked[resolved] = description

    def unblock_chat(self, chat_id: ChatId) -> None:
        """Undo block_chat."""
        with self._cond:
            self._blocked.pop(self._resolve_chat(chat_id), None)

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[Call]:
        """Snapshot of every recorded call, oldest first."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method."""
        canon = self._canon(method)
        return [c for c in self.calls if c.method == canon]

    def mark(self) -> int:
        """Current number of calls, for ``wait_for(..., since=mark)``."""
        with self._cond:
            return len(self._calls)

    def wait_for(
        self,
        method: str,
        predicate: CallPredicate | None = None,
        timeout: float = 10.0,
        *,
        since: int | None = None,
    ) -> Call:
        """Block until a matching call arrives and return it.

        Without ``since`` it returns the oldest matching call not yet returned by an earlier
        ``wait_for``; with ``since`` the oldest matching call with ``index >= since``. ``predicate`` is
        checked again each time a call is recorded or answered.
        """
        canon = self._canon(method)
        deadline = time.monotonic() + timeout
        with self._cond:
            scanned = -1
            while True:
                if scanned != self._call_changes:  # calls are only looked at again once one changed
                    scanned = self._call_changes
                    for call in self._candidates(canon, since or 0):
                        if since is None and call.index in self._consumed:
                            continue
                        if predicate is None or predicate(call):
                            self._consumed.add(call.index)
                            return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = ", ".join(c.method for c in self._calls[-10:])
                    raise TimeoutError(f"no {canon} call within {timeout}s (recent calls: {recent})")
                self._cond.wait(remaining)

    def wait_for_count(
        self,
        method: str,
        count: int,
        predicate: CallPredicate | None = None,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> list[Call]:
        """Block until at least ``count`` matching calls (index >= since) exist; return them all.

        ``predicate`` is checked again on every call each time a call is recorded or answered.
        """
        canon = self._canon(method)
        deadline = time.monotonic() + timeout
        with self._cond:
            scanned = -1
            found: list[Call] = []
            while True:
                if scanned != self._call_changes:  # calls are only looked at again once one changed
                    scanned = self._call_changes
                    found = [c for c in self._candidates(canon, since) if predicate is None or predicate(c)]
                    if len(found) >= count:
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"only {len(found)} of {count} {canon} calls within {timeout}s")
                self._cond.wait(remaining)

    def _candidates(self, canon: str, since: int) -> list[Call]:
        """Recorded calls of ``canon`` ("*" = any) with ``index >= since``, oldest first; hold ``_cond``."""
        if canon == "*":
            return self._calls[max(since, 0) :]
        calls = self._calls_by_method.get(canon, [])
        return calls[bisect.bisect_left(calls, since, key=lambda c: c.index) :]

    def wait_for_response(self, call: Call, timeout: float = 10.0) -> JSONDict:
        """Block until ``call`` has been answered; return the response body."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while call.response is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{call.method} not answered within {timeout}s")
                self._cond.wait(remaining)
            return call.response

    def sent_messages(self, chat_id: ChatId | None = None) -> list[JSONDict]:
        """Messages the bot sent (current state, edits applied), oldest first."""
        with self._cond:
            wanted = None if chat_id is None else self._resolve_chat(chat_id)
            return [
                _copy(self._messages[key])
                for key in self._sent
                if key in self._messages and (wanted is None or key[0] == wanted)
            ]

    def last_message(self, chat_id: ChatId) -> JSONDict | None:
        """The latest message the bot sent to ``chat_id``."""
        sent = self.sent_messages(chat_id)
        return sent[-1] if sent else None

    def uploads(self, chat_id: ChatId | None = None) -> list[Upload]:
        """Files sent with sendDocument/sendPhoto."""
        with self._cond:
            wanted = None if chat_id is None else self._resolve_chat(chat_id)
            return [u for u in self._uploads if wanted is None or u.chat_id == wanted]

    def answers(self, method: str | None = None) -> list[JSONDict]:
        """answerCallbackQuery/answerInlineQuery parameters, oldest first."""
        with self._cond:
            return [a for a in self._answers if method is None or a["method"] == method]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands set for a scope (default scope if None) and language."""
        with self._cond:
            return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by an offset."""
        with self._cond:
            return list(self._updates)

    @property
    def allowed_updates(self) -> list[str] | None:
        """The last allowed_updates given to getUpdates/setWebhook."""
        return self._allowed_updates

    @property
    def webhook(self) -> JSONDict | None:
        """setWebhook parameters while a webhook is set."""
        return self._webhook

    # ------------------------------------------------------------------ updates

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing. Returns the id."""
        with self._cond:
            update_id = int(update.get("update_id", self._next_update_id))
            update = {"update_id": update_id, **{k: v for k, v in update.items() if k != "update_id"}}
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._remember(update)
            in_order = not self._updates or int(self._updates[-1]["update_id"]) <= update_id
            self._updates.append(update)
            if not in_order:
                self._updates.sort(key=lambda u: int(u["update_id"]))
            self._cond.notify_all()
            return update_id

    def push_message(self, user_id: int, text: str, **kwargs: Any) -> int:
        """Shorthand: ``push_update(message_update(user_id, text, **kwargs))``."""
        return self.push_update(self.message_update(user_id, text, **kwargs))

    def message_update(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Tester",
        username: str | None = None,
        reply_to_message: JSONDict | int | None = None,
        *,
        last_name: str | None = None,
        chat_title: str | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """A ``message`` update from a user; /commands, @mentions and URLs get entities."""
        message = self._user_message(
            user_id, chat_id, chat_type, language_code, first_name, username, last_name, chat_title
        )
        message["text"] = text
        found = detect_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        if reply_to_message is not None:
            message["reply_to_message"] = self._lookup_message(message["chat"]["id"], reply_to_message)
        return {"message": message}

    def callback_update(
        self,
        user_id: int,
        data: str,
        message: JSONDict | int | None = None,
        *,
        chat_id: int | None = None,
        inline_message_id: str | None = None,
        first_name: str = "Tester",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSONDict:
        """A ``callback_query`` update: a press on ``message``'s button (default: the bot's last message)."""
        query: JSONDict = {
            "id": self._new_query_id(),
            "from": self._user(user_id, first_name, username, None, language_code),
            "data": data,
        }
        if inline_message_id is not None:
            query["inline_message_id"] = inline_message_id
            query["chat_instance"] = str(abs(hash(inline_message_id)) % 10**18)
        else:
            chat = user_id if chat_id is None else chat_id
            if message is None:
                message = self.last_message(chat)
                if message is None:
                    raise ValueError(f"the bot has sent no message to chat {chat}; pass message=")
            query["message"] = self._lookup_message(chat, message)
            query["chat_instance"] = str(abs(query["message"]["chat"]["id"]) * 7919 % 10**18)
        return {"callback_query": query}

    def inline_update(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "sender",
        first_name: str = "Tester",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSONDict:
        """An ``inline_query`` update."""
        return {
            "inline_query": {
                "id": self._new_query_id(),
                "from": self._user(user_id, first_name, username, None, language_code),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            }
        }

    def sticker_update(
        self,
        user_id: int,
        emoji: str = "👍",
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        set_name: str = "EtownTestStickers",
        language_code: str | None = "en",
    ) -> JSONDict:
        """A ``message`` update carrying a sticker."""
        message = self._user_message(user_id, chat_id, chat_type, language_code, "Tester", None, None, None)
        file_id, unique_id = self._new_file_ids("CAACAgIAAxkB")
        message["sticker"] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": set_name,
            "file_size": 24_000,
        }
        return {"message": message}

    def photo_update(
        self,
        user_id: int,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        width: int = 1280,
        height: int = 960,
        language_code: str | None = "en",
    ) -> JSONDict:
        """A ``message`` update carrying a photo (three sizes) and an optional caption."""
        message = self._user_message(user_id, chat_id, chat_type, language_code, "Tester", None, None, None)
        sizes: list[JSONDict] = []
        for scale in (320, 800, max(width, height)):
            factor = min(1.0, scale / max(width, height))
            file_id, unique_id = self._new_file_ids("AgACAgIAAxkB")
            w, h = int(width * factor), int(height * factor)
            sizes.append(
                {"file_id": file_id, "file_unique_id": unique_id, "width": w, "height": h, "file_size": w * h // 8}
            )
        message["photo"] = sizes
        if caption is not None:
            message["caption"] = caption
            found = detect_entities(caption)
            if found:
                message["caption_entities"] = found
        return {"message": message}

    def edited_message_update(
        self,
        user_id: int,
        text: str,
        message_id: int | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        language_code: str | None = "en",
    ) -> JSONDict:
        """An ``edited_message`` update (default: the user's latest message in the chat)."""
        chat = self._default_chat_id(user_id, chat_id, chat_type)
        with self._cond:
            if message_id is None:
                own = [
                    key
                    for key, msg in self._messages.items()
                    if key[0] == chat and msg.get("from", {}).get("id") == user_id
                ]
                message_id = max(own)[1] if own else None
            original = self._messages.get((chat, message_id)) if message_id is not None else None
        if original is not None:
            message = _copy(original)
        else:
            message = self._user_message(user_id, chat_id, chat_type, language_code, "Tester", None, None, None)
            if message_id is not None:
                message["message_id"] = message_id
        message["text"] = text
        message.pop("entities", None)
        found = detect_entities(text)
        if found:
            message["entities"] = found
        message["edit_date"] = int(time.time())
        return {"edited_message": message}

    def channel_post_update(
        self,
        text: str,
        chat_id: int = DEFAULT_CHANNEL_ID,
        *,
        title: str = "Etown Test Channel",
        username: str | None = None,
    ) -> JSONDict:
        """A ``channel_post`` update (no ``from``; ``sender_chat`` is the channel)."""
        chat: JSONDict = {"id": chat_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "sender_chat": dict(chat),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        found = detect_entities(text)
        if found:
            message["entities"] = found
        return {"channel_post": message}

    # ------------------------------------------------------------------ internals: helpers

    def _canon(self, method: str) -> str:
        return method if method == "*" else self._canonical.get(method.lower(), method)

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _new_query_id(self) -> str:
        with self._cond:
            query_id = str(4_000_000_000_000_000_000 + next(self._id_counter))
            self._open_queries.add(query_id)
            return query_id

    def _new_file_ids(self, prefix: str) -> tuple[str, str]:
        with self._cond:
            n = next(self._id_counter)
        return f"{prefix}{n:020d}", f"AgAD{n:012d}"

    def _next_message_id(self, chat_id: int) -> int:
        with self._cond:
            self._message_counters[chat_id] = self._message_counters.get(chat_id, 0) + 1
            return self._message_counters[chat_id]

    @staticmethod
    def _user(
        user_id: int, first_name: str, username: str | None, last_name: str | None, language_code: str | None
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        username = f"user{user_id}" if username is None else username
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    @staticmethod
    def _default_chat_id(user_id: int, chat_id: int | None, chat_type: str) -> int:
        if chat_id is not None:
            return chat_id
        return {"private": user_id, "group": DEFAULT_GROUP_ID, "supergroup": DEFAULT_SUPERGROUP_ID}.get(
            chat_type, DEFAULT_CHANNEL_ID
        )

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        language_code: str | None,
        first_name: str,
        username: str | None,
        last_name: str | None,
        chat_title: str | None,
    ) -> JSONDict:
        sender = self._user(user_id, first_name, username, last_name, language_code)
        chat_key = self._default_chat_id(user_id, chat_id, chat_type)
        chat: JSONDict = {"id": chat_key, "type": chat_type}
        if chat_type == "private":
            chat.update({k: sender[k] for k in ("first_name", "last_name", "username") if k in sender})
        else:
            chat["title"] = chat_title or ("Etown Test Group" if chat_type != "channel" else "Etown Test Channel")
        return {
            "message_id": self._next_message_id(chat_key),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }

    def _lookup_message(self, chat_id: int, message: JSONDict | int) -> JSONDict:
        if isinstance(message, dict):
            return message
        with self._cond:
            found = self._messages.get((chat_id, message))
        if found is None:
            raise ValueError(f"no message {message} in chat {chat_id}")
        return _copy(found)

    def _remember(self, update: JSONDict) -> None:
        """Record chats, users, messages and query ids carried by a pushed update."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(key)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                chat = message["chat"]
                chat_id = int(chat["id"])
                self._chats[chat_id] = dict(chat)
                if chat.get("username"):
                    self._usernames[str(chat["username"]).lower()] = chat_id
                message_id = int(message.get("message_id", 0))
                self._messages[(chat_id, message_id)] = _copy(message)
                self._message_counters[chat_id] = max(self._message_counters.get(chat_id, 0), message_id)
        for key in ("callback_query", "inline_query"):
            query = update.get(key)
            if isinstance(query, dict) and "id" in query:
                self._open_queries.add(str(query["id"]))

    def _resolve_chat(self, chat_id: ChatId) -> int:
        value = _chat_id_value(chat_id)
        if isinstance(value, int):
            return value
        name = value[1:].lower()
        with self._cond:
            if name not in self._usernames:
                new_id = DEFAULT_CHANNEL_ID - 1 - len(self._usernames)
                self._usernames[name] = new_id
                chat = {"id": new_id, "type": "channel", "title": value[1:], "username": value[1:]}
                self._chats.setdefault(new_id, chat)
            return self._usernames[name]

    def _chat_object(self, chat_id: int) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        if chat_id <= -1_000_000_000_000:
            return {"id": chat_id, "type": "supergroup", "title": "Etown Test Supergroup"}
        return {"id": chat_id, "type": "group", "title": "Etown Test Group"}

    @staticmethod
    def _bot_user(bot_id: int) -> JSONDict:
        return {"id": bot_id, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}

    # ------------------------------------------------------------------ internals: dispatch

    def _dispatch(
        self,
        *,
        token: str,
        method: str,
        raw: JSONDict,
        files: dict[str, UploadedFile],
        http_method: str,
        content_type: str,
        parse_error: ApiError | None,
    ) -> tuple[int, JSONDict] | None:
        """Record the call and produce ``(status, body)``, or None to drop the connection."""
        canon = self._canon(method)
        try:
            params = normalize_params(raw)
        except ApiError as exc:
            params, parse_error = dict(raw), parse_error or exc
        with self._cond:
            call = Call(len(self._calls), canon, params, time.time(), token, http_method, content_type, files)
            self._calls.append(call)
            self._calls_by_method.setdefault(canon, []).append(call)
            self._call_changes += 1
            self._cond.notify_all()
        if self.on_call is not None:
            self.on_call(call)
        outcome = self._answer(call, parse_error)
        with self._cond:
            if outcome is not None:
                call.status, call.response = outcome
            else:
                call.status, call.response = 0, {}
            self._call_changes += 1
            self._cond.notify_all()
        return outcome

    def _answer(self, call: Call, parse_error: ApiError | None) -> tuple[int, JSONDict] | None:
        try:
            if not TOKEN_PATTERN.fullmatch(call.token) or (
                self.expected_token is not None and call.token != self.expected_token
            ):
                raise ApiError(401, "Unauthorized")
            handler = self._handlers.get(call.method)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            with self._cond:
                delay = self._delays.get(call.method, self._delays.get("*", 0.0))
            if delay > 0 and self._stop_event.wait(delay):
                return None
            fault = self._take_fault(call.method)
            if fault is not None:
                if fault.drop:
                    return None
                params = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.status, fault.description, params)
            if parse_error is not None:
                raise parse_error
            self._check_blocked(call.params)
            reply = handler(_Request(call.token, call.method, call.params, call.files))
        except ApiError as exc:
            return exc.status, exc.payload()
        if isinstance(reply, _Reply):
            body: JSONDict = {"ok": True, "result": reply.result}
            if reply.description:
                body["description"] = reply.description
            return 200, body
        return 200, {"ok": True, "result": reply}

    def _take_fault(self, method: str) -> _Fault | None:
        with self._cond:
            for index, (target, fault) in enumerate(self._faults):
                if target in ("*", method):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._faults[index]
                    return fault
        return None

    def _check_blocked(self, params: JSONDict) -> None:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            return
        chat_id = self._resolve_chat(raw)
        with self._cond:
            description = self._blocked.get(chat_id)
        if description is not None:
            raise ApiError(403, description)

    def _require_chat(self, params: JSONDict) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        return self._resolve_chat(raw)

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        """Validate reply_markup like Telegram; return it if it is an inline keyboard."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if size == 0 or size > MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg|ton)://\S+$", str(url)):
                    raise _bad("BUTTON_URL_INVALID")
        return markup

    def _format(self, params: JSONDict, key: str, entities_key: str) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode/entities to ``params[key]``; return text and entities, trimmed."""
        text = _text_param(params, key) or ""
        given = params.get(entities_key)
        parse_mode = str(params.get("parse_mode") or "")
        if isinstance(given, list):
            entities: list[JSONDict] = [e for e in given if isinstance(e, dict)]
        elif parse_mode.upper() == "HTML":
            text, entities = parse_html(text)
        elif parse_mode in ("", "Markdown", "MarkdownV2"):
            entities = []
        else:
            raise _bad("unsupported parse_mode")
        text, entities = _trim(text, entities)
        return text, _merge_detected(text, entities)

    def _store_sent(self, chat_id: int, message: JSONDict) -> None:
        with self._cond:
            key = (chat_id, int(message["message_id"]))
            self._messages[key] = message
            self._sent.append(key)

    def _new_bot_message(self, req: _Request, chat_id: int) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(req.bot_id),
            "chat": self._chat_object(chat_id),
            "date": int(time.time()),
        }
        reply_to = _int_param(req.params, "reply_to_message_id")
        reply_parameters = req.params.get("reply_parameters")
        if reply_to is None and isinstance(reply_parameters, dict):
            reply_to = _int_param(reply_parameters, "message_id")
        if reply_to is not None:
            with self._cond:
                original = self._messages.get((chat_id, reply_to))
            if original is not None:
                message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
            elif not req.params.get("allow_sending_without_reply") and not (
                isinstance(reply_parameters, dict) and reply_parameters.get("allow_sending_without_reply")
            ):
                raise _bad("message to be replied not found")
        return message

    # ------------------------------------------------------------------ method handlers

    def _get_me(self, req: _Request) -> JSONDict:
        return {
            **self._bot_user(req.bot_id),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, req: _Request) -> list[JSONDict]:
        offset = _int_param(req.params, "offset")
        limit = min(max(_int_param(req.params, "limit", 100) or 100, 1), 100)
        timeout = max(_int_param(req.params, "timeout", 0) or 0, 0)
        allowed = req.params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                    "delete the webhook first",
                )
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            self._poll_generation += 1
            generation = self._poll_generation
            if offset is not None and offset > 0:
                self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
            elif offset is not None and offset < 0:
                self._updates = self._updates[offset:]
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only one bot "
                        "instance is running",
                    )
                wanted = set(self._allowed_updates or []) or _DEFAULT_UPDATE_TYPES
                self._updates = [u for u in self._updates if self._update_type(u) in wanted]
                if self._updates or self._stop_event.is_set():
                    return [_copy(u) for u in self._updates[:limit]]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    @staticmethod
    def _update_type(update: JSONDict) -> str:
        """The update's kind; unknown kinds count as "message" so they are delivered."""
        kinds = [k for k in update if k in _ALL_UPDATE_TYPES]
        return kinds[0] if kinds else "message"

    def _set_webhook(self, req: _Request) -> _Reply:
        url = _text_param(req.params, "url") or ""
        with self._cond:
            if isinstance(req.params.get("allowed_updates"), list):
                self._allowed_updates = [str(a) for a in req.params["allowed_updates"]]
            if req.params.get("drop_pending_updates") is True:
                self._updates = []
            if not url:
                was_set = self._webhook is not None
                self._webhook = None
                return _Reply(True, "Webhook was deleted" if was_set else "Webhook is already deleted")
            if not url.startswith("https://"):
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            self._webhook = dict(req.params)
            self._poll_generation += 1
            self._cond.notify_all()
        return _Reply(True, "Webhook was set")

    def _delete_webhook(self, req: _Request) -> _Reply:
        with self._cond:
            was_set = self._webhook is not None
            self._webhook = None
            if req.params.get("drop_pending_updates") is True:
                self._updates = []
        return _Reply(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _get_webhook_info(self, req: _Request) -> JSONDict:
        with self._cond:
            info: JSONDict = {
                "url": (self._webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook and self._allowed_updates is not None:
                info["allowed_updates"] = list(self._allowed_updates)
            return info

    def _send_message(self, req: _Request) -> JSONDict:
        chat_id = self._require_chat(req.params)
        if not _text_param(req.params, "text"):
            raise _bad("message text is empty")
        text, entities = self._format(req.params, "text", "entities")
        if not text:
            raise _bad("message text is empty")
        if utf16_len(text) > MAX_TEXT_UNITS:
            raise _bad("message is too long")
        markup = self._check_markup(req.params.get("reply_markup"))
        message = self._new_bot_message(req, chat_id)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        if isinstance(req.params.get("link_preview_options"), dict):
            message["link_preview_options"] = req.params["link_preview_options"]
        self._store_sent(chat_id, message)
        return message

    def _editable(self, req: _Request) -> tuple[int, int, JSONDict] | None:
        """Find the message an edit targets; None for inline messages."""
        if req.params.get("inline_message_id"):
            return None
        chat_id = self._require_chat(req.params)
        message_id = _int_param(req.params, "message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        with self._cond:
            message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != req.bot_id:
            raise _bad("message can't be edited")
        return chat_id, message_id, message

    def _edit_message_text(self, req: _Request) -> JSONDict | bool:
        if not _text_param(req.params, "text"):
            raise _bad("text must be non-empty")
        text, entities = self._format(req.params, "text", "entities")
        if not text:
            raise _bad("text must be non-empty")
        if utf16_len(text) > MAX_TEXT_UNITS:
            raise _bad("MESSAGE_TOO_LONG")
        markup = self._check_markup(req.params.get("reply_markup"))
        target = self._editable(req)
        if target is None:
            return True
        chat_id, message_id, old = target
        if "text" not in old:
            raise _bad("there is no text in the message to edit")
        if old["text"] == text and old.get("entities", []) == entities and old.get("reply_markup") == markup:
            raise _bad(_NOT_MODIFIED)
        new = {k: v for k, v in old.items() if k not in ("entities", "reply_markup")}
        new.update({"text": text, "edit_date": int(time.time())})
        if entities:
            new["entities"] = entities
        if markup is not None:
            new["reply_markup"] = markup
        with self._cond:
            self._messages[(chat_id, message_id)] = new
        return new

    def _edit_message_reply_markup(self, req: _Request) -> JSONDict | bool:
        markup = self._check_markup(req.params.get("reply_markup"))
        target = self._editable(req)
        if target is None:
            return True
        chat_id, message_id, old = target
        if old.get("reply_markup") == markup:
            raise _bad(_NOT_MODIFIED)
        new = {k: v for k, v in old.items() if k != "reply_markup"}
        new["edit_date"] = int(time.time())
        if markup is not None:
            new["reply_markup"] = markup
        with self._cond:
            self._messages[(chat_id, message_id)] = new
        return new

    def _delete_message(self, req: _Request) -> bool:
        chat_id = self._require_chat(req.params)
        message_id = _int_param(req.params, "message_id")
        with self._cond:
            if message_id is None or self._messages.pop((chat_id, message_id), None) is None:
                raise _bad("message to delete not found")
        return True

    def _take_query(self, req: _Request, key: str, method: str) -> str:
        query_id = _text_param(req.params, key) or ""
        with self._cond:
            if query_id not in self._open_queries:
                raise _bad(_QUERY_TOO_OLD)
            self._open_queries.discard(query_id)
            self._answers.append({"method": method, **req.params})
        return query_id

    def _answer_callback_query(self, req: _Request) -> bool:
        text = _text_param(req.params, "text") or ""
        if len(text) > MAX_CALLBACK_ANSWER_CHARS:
            raise _bad("MESSAGE_TOO_LONG")
        self._take_query(req, "callback_query_id", "answerCallbackQuery")
        return True

    def _answer_inline_query(self, req: _Request) -> bool:
        results = req.params.get("results")
        if not isinstance(results, list):
            raise _bad("can't parse results JSON object")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or "type" not in result or "id" not in result:
                raise _bad("can't parse InlineQueryResult: result type and id must be specified")
            result_id = str(result["id"])
            if not result_id or len(result_id.encode("utf-8")) > 64:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._check_markup(result.get("reply_markup"))
        self._take_query(req, "inline_query_id", "answerInlineQuery")
        return True

    def _set_my_commands(self, req: _Request) -> bool:
        commands = req.params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not description.strip():
                raise _bad("command description is empty")
            if len(description) > 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(req.params.get("scope")), _text_param(req.params, "language_code") or "")
        with self._cond:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _get_my_commands(self, req: _Request) -> list[JSONDict]:
        key = (self._scope_key(req.params.get("scope")), _text_param(req.params, "language_code") or "")
        with self._cond:
            return list(self._commands.get(key, []))

    def _delete_my_commands(self, req: _Request) -> bool:
        key = (self._scope_key(req.params.get("scope")), _text_param(req.params, "language_code") or "")
        with self._cond:
            self._commands.pop(key, None)
        return True

    def _send_file(self, req: _Request, kind: str) -> JSONDict:
        chat_id = self._require_chat(req.params)
        upload = req.files.get(kind)
        reference = _text_param(req.params, kind)
        if reference and reference.startswith("attach://"):
            upload = req.files.get(reference.removeprefix("attach://"))
            reference = None
        if upload is None and not reference:
            raise _bad(f"there is no {kind} in the request")
        if upload is not None and not upload.data:
            raise _bad("file must be non-empty")
        caption, caption_entities = "", list[JSONDict]()
        if req.params.get("caption"):
            caption, caption_entities = self._format(req.params, "caption", "caption_entities")
        if utf16_len(caption) > MAX_CAPTION_UNITS:
            raise _bad("message caption is too long")
        markup = self._check_markup(req.params.get("reply_markup"))
        message = self._new_bot_message(req, chat_id)
        size = len(upload.data) if upload is not None else 1024
        if kind == "document":
            file_id, unique_id = self._new_file_ids("BQACAgIAAxkB")
            document: JSONDict = {"file_id": file_id, "file_unique_id": unique_id, "file_size": size}
            if upload is not None:
                document.update({"file_name": upload.filename, "mime_type": upload.content_type})
            message["document"] = document
        else:
            photo: list[JSONDict] = []
            for side in (90, 320, 800):
                file_id, unique_id = self._new_file_ids("AgACAgIAAxkB")
                photo.append(
                    {"file_id": file_id, "file_unique_id": unique_id, "width": side, "height": side, "file_size": size}
                )
            message["photo"] = photo
        if caption:
            message["caption"] = caption
            if caption_entities:
                message["caption_entities"] = caption_entities
        if markup is not None:
            message["reply_markup"] = markup
        self._store_sent(chat_id, message)
        with self._cond:
            self._uploads.append(
                Upload(
                    method=req.method,
                    chat_id=chat_id,
                    field=kind,
                    filename=upload.filename if upload else None,
                    content_type=upload.content_type if upload else None,
                    data=upload.data if upload else b"",
                    reference=reference if upload is None else None,
                    caption=caption or None,
                    message=message,
                )
            )
        return message

    def _send_chat_action(self, req: _Request) -> bool:
        self._require_chat(req.params)
        if _text_param(req.params, "action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True


# --------------------------------------------------------------------------- standalone


def _stdin_line_to_update(api: FakeBotAPI, line: str, user_id: int) -> JSONDict:
    """Turn a line into an update: a JSON update, a JSON shorthand, or plain text from ``user_id``."""
    try:
        data = json.loads(line)
    except ValueError:
        return api.message_update(user_id, line)
    if not isinstance(data, dict):
        return api.message_update(user_id, line)
    if "update_id" in data or set(data) & _ALL_UPDATE_TYPES:
        return data
    uid = int(data.get("user_id", user_id))
    if "callback_data" in data:
        return api.callback_update(uid, str(data["callback_data"]), data.get("message_id"))
    if "inline_query" in data:
        return api.inline_update(uid, str(data["inline_query"]))
    return api.message_update(
        uid,
        str(data.get("text", "")),
        chat_id=data.get("chat_id"),
        chat_type=str(data.get("chat_type", "private")),
        language_code=data.get("language_code", "en"),
    )


def _main(argv: list[str] | None = None) -> int:
    """Run standalone; stdin lines become updates (JSON update, {"text": ...} shorthand, or plain text)."""
    parser = argparse.ArgumentParser(description="Stand-in Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="only accept this token (default: any well-formed one)")
    parser.add_argument("--user-id", type=int, default=1001, help="sender of plain-text stdin lines")
    parser.add_argument("--quiet", action="store_true", help="do not log calls to stderr")
    args = parser.parse_args(argv)

    def log(call: Call) -> None:
        shown = {k: v for k, v in call.params.items() if k in ("chat_id", "text", "caption", "offset", "timeout")}
        print(f"<- {call.method} {json.dumps(shown, ensure_ascii=False)}", file=sys.stderr, flush=True)

    api = FakeBotAPI(expected_token=args.token, host=args.host, port=args.port, on_call=None if args.quiet else log)
    api.start()
    print(f"base_url: {api.base_url}", flush=True)
    print(f"token:    {api.token}", flush=True)
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                update_id = api.push_update(_stdin_line_to_update(api, line, args.user_id))
            except (ValueError, KeyError, TypeError) as exc:
                print(f"!! {exc}", file=sys.stderr, flush=True)
                continue
            print(f"-> pushed update {update_id}", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
