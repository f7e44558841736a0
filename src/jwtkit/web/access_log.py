"""The access log records the path of a request, never its query string: a client that wrongly
puts a token in the URL (``/auth/me?access_token=…``) must not have it written to the log.

``PathOnly`` is a ``logging.Filter`` for uvicorn's ``uvicorn.access`` records (whose third
argument is the path with its query); :func:`uvicorn_log_config` is uvicorn's own logging
configuration with the filter on the access handler, passed to every worker.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

__all__ = ["PathOnly", "uvicorn_log_config"]


class PathOnly(logging.Filter):
    """Cut the query string off the path of an access-log record (``args[2]``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, with :class:`PathOnly` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": f"{__name__}.PathOnly"}
    config["handlers"]["access"].setdefault("filters", []).append("path_only")
    return config
