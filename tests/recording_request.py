"""In-process Telegram for handler tests: a ``BaseRequest`` that records every Bot API call.

Instead of HTTP, each request goes straight to a (not started) ``FakeBotAPI``'s dispatcher, so the
answers, the refusals (text over 4,096 characters, callback data over 64 bytes, bad HTML, ...) and the
records are exactly those of the stand-in server used end to end.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from typing import Any
from urllib.parse import urlsplit

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from tests.botapi_server import FakeBotAPI, UploadedFile

_PATH = re.compile(r"/bot([^/]*)/([^/]*)/?")


class RecordingRequest(BaseRequest):
    """Answers like Telegram (via ``api``) and leaves every call in ``api.calls``."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        match = _PATH.fullmatch(urlsplit(url).path)
        if match is None:
            return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
        raw: dict[str, Any] = dict(request_data.json_parameters) if request_data is not None else {}
        files: dict[str, UploadedFile] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                filename, content = part[0], part[1]
                mimetype = part[2] if len(part) > 2 else "application/octet-stream"
                data = content if isinstance(content, bytes) else content.read()
                files[name] = UploadedFile(name, str(filename), str(mimetype), data)
        dispatch = functools.partial(
            self.api._dispatch,
            token=match.group(1),
            method=match.group(2),
            raw=raw,
            files=files,
            http_method=method,
            content_type="multipart/form-data" if files else "application/x-www-form-urlencoded",
            parse_error=None,
        )
        # A configured delay sleeps in the stand-in server: off the event loop, as a slow Telegram would be.
        outcome = await asyncio.to_thread(dispatch) if self.api._delays else dispatch()
        if outcome is None:
            raise NetworkError("connection dropped")
        status, payload = outcome
        return status, json.dumps(payload).encode("utf-8")
