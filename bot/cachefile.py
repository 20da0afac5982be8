"""Files in ``cache/`` beside the database: written atomically, best effort, one generation at a time.

The classifier's weights, the synonyms of a clean knowledge base and the queue's segmentations are kept
there. Each is keyed by a digest in its name (``classifier-<digest>.npz``); a new one replaces the file
whole (a crash leaves no half file) and drops the earlier generations of its kind. A cache that cannot be
written only costs the work it would have saved: it is logged, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


def replace_atomically(path: Path, write: Callable[[BinaryIO], object], stale: str, what: str) -> None:
    """Write ``path`` through ``write`` (given the open file), then delete the other files matching ``stale``
    (a glob beside it); ``what`` names the cache in the warning when it cannot be written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as handle:
            write(handle)
        os.replace(temporary, path)
        for old in path.parent.glob(stale):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("%s %s not written (%s)", what, path, exc)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
