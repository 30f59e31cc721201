"""Logging for the server: one line per request. With the fast path on, lines are
written in batches (``deliberation.fast_path.BufferedLogHandler``); off, through
Litestar's own queue-listener handler."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from litestar.logging.config import LoggingConfig

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when the buffer is flushed (test
    runners and daemons swap it; a stream bound at start-up may be closed by then)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def logging_config(level: str, buffered: bool = True) -> LoggingConfig:
    # Nothing in LOG_FORMAT needs the caller's source line, thread or process, so
    # records skip collecting them (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handlers: dict[str, dict[str, Any]] = {
        "console": {"class": "api.logs.StderrHandler", "formatter": "standard"},
    }
    if buffered:
        # Litestar's own loggers name this handler; it is the buffered one here.
        handlers["queue_listener"] = {
            "class": "deliberation.fast_path.BufferedLogHandler",
            "target": "console",
        }
    else:  # Litestar's default: a queue and a listener thread writing to stderr
        handlers["queue_listener"] = {
            "class": "litestar.logging.standard.QueueListenerHandler",
            "formatter": "standard",
        }
    return LoggingConfig(
        formatters={"standard": {"format": LOG_FORMAT}},
        handlers=handlers,
        root={"level": level.upper(), "handlers": ["queue_listener"]},
        # transitions says "Finished processing state …" at INFO on every trigger.
        loggers={"transitions": {"level": "WARNING"}},
        log_exceptions="never",  # api/errors.py logs what it did not expect, once
    )


def flush_logs() -> None:
    """Write out buffered lines now (the app calls it on shutdown)."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def configure_logging(level: str) -> None:
    """Logging before the app exists (start-up messages); the app then takes it over."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
