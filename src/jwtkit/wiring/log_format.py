"""``--log-format json``: one JSON object per line, for log shippers (Loki, Elasticsearch, Datadog…).

Every record — jwtkit's, and uvicorn's own error and access logs — goes through
:class:`JsonFormatter`::

    {"time": "2026-12-04T08:30:00.123Z", "level": "INFO", "logger": "uvicorn.access",
     "event": "127.0.0.1:50312 - \\"POST /auth/token HTTP/1.1\\" 200", "request_id": "9f1c…",
     "client": "127.0.0.1:50312", "method": "POST", "path": "/auth/token", "status": 200}
    {"time": "…", "level": "INFO", "logger": "jwtkit.events", "event": "login ok (user 7)",
     "request_id": "9f1c…", "user_id": 7}

``request_id`` and ``user_id`` come from the request's log context
(:mod:`jwtkit.web.request_id`) when the line is written while a request is handled. What is
never written: a token, a password, a cookie value, an ``Authorization`` header. jwtkit does
not log them in the first place (the access log has the path without its query string, errors
their reason); as a last line of defence anything shaped like a JWT (``eyJ….…``) in a message
or a traceback is replaced by ``[redacted]``.

The standard library only: a formatter of thirty lines does not need python-json-logger (which
would add a dependency for the same ``json.dumps`` of the record's fields).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Literal

from jwtkit.web.access_log import uvicorn_log_config
from jwtkit.web.request_id import current_context

__all__ = ["LOG_FORMATS", "JsonFormatter", "LogFormat", "log_config", "redact"]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
_JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*)?")


def redact(text: str) -> str:
    """``text`` with anything shaped like a compact JWS/JWT replaced by ``[redacted]``."""
    return _JWT_SHAPED.sub("[redacted]", text) if "eyJ" in text else text


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time (UTC, ms), level, logger, event, request id, user id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        context = current_context()
        user_id = getattr(record, "user_id", None)
        if context is not None:
            entry["request_id"] = context.request_id
            if user_id is None:
                user_id = context.user_id
        if user_id is not None:
            entry["user_id"] = user_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _, status = record.args
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's logging configuration (the access log without query strings), with
    ``log_format == "json"``: every formatter JSON, and the root logger (jwtkit's own lines) on
    the same stderr handler at INFO."""
    config = uvicorn_log_config()
    if log_format == "json":
        json_formatter = {"()": f"{__name__}.JsonFormatter"}
        config["formatters"] = {"default": json_formatter, "access": dict(json_formatter)}
        config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config
