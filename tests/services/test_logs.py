"""LOG_FORMAT=json: each log event is one line holding one JSON object."""

from __future__ import annotations

import json
import logging

import pytest

from services.logs import FIELDS, JsonFormatter, configure_logging, uvicorn_log_config
from services.settings import InvalidSettings, load_settings


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger('portal.test')
    return logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, args, None, extra=extra)


def test_a_record_becomes_one_json_line_with_its_fields() -> None:
    line = JsonFormatter().format(_record('Import von %s\nzweite Zeile', 'Müller', **{FIELDS: {'rows': 3}}))
    assert '\n' not in line
    entry = json.loads(line)
    assert entry['level'] == 'WARNING'
    assert entry['logger'] == 'portal.test'
    assert entry['message'] == 'Import von Müller\nzweite Zeile'
    assert entry['rows'] == 3
    assert entry['ts'].endswith('+00:00')


def test_an_exception_travels_inside_the_line() -> None:
    try:
        raise ValueError('kaputt')
    except ValueError:
        record = logging.getLogger('portal.test').makeRecord(
            'portal.test', logging.ERROR, __file__, 1, 'Fehler', (), exc_info=__import__('sys').exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert 'ValueError: kaputt' in entry['exception']


def test_json_puts_one_handler_on_the_root_and_leaves_uvicorn_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, 'handlers', list(root.handlers))
    monkeypatch.setattr(root, 'level', root.level)
    configure_logging('json')
    assert [type(handler.formatter) for handler in root.handlers] == [JsonFormatter]
    assert root.level == logging.INFO
    assert uvicorn_log_config('json') is None
    assert uvicorn_log_config('text') is not None


def test_log_format_is_text_or_json_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('LOG_FORMAT', 'JSON')
    assert load_settings().log_format == 'json'
    monkeypatch.setenv('LOG_FORMAT', 'yaml')
    with pytest.raises(InvalidSettings, match='LOG_FORMAT'):
        load_settings()
