"""Log output: plain text by default, or with LOG_FORMAT=json one JSON object per line on stderr, for every log event
(the portal's, uvicorn's, NiceGUI's, Tortoise's) and for every HTTP request (pages/request_log.py), so a log shipper
needs no parsing rules. A small logging.Formatter: the standard library has everything this needs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOGGING_CONFIG

# A record's structured fields ride in `extra={FIELDS: {...}}` and become keys of its JSON line.
FIELDS = 'fields'


class JsonFormatter(logging.Formatter):
    """ts (UTC, ISO 8601), level, logger, message, the record's fields, and the traceback if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            'ts': datetime.fromtimestamp(record.created, UTC).isoformat(timespec='milliseconds'),
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
        }
        entry.update(getattr(record, FIELDS, None) or {})
        if record.exc_info:
            entry['exception'] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str) -> None:
    """JSON: one handler on the root logger at INFO, which every other logger reaches. Text: Python's and uvicorn's
    defaults, as before (warnings and errors only)."""
    if log_format != 'json':
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """For ui.run: uvicorn's own configuration for text; none for JSON, so its loggers reach the root handler."""
    return None if log_format == 'json' else LOGGING_CONFIG
