"""Logging set-up shared by the workflow's scripts and the command line."""

from __future__ import annotations

import logging
import sys


def configure(path: str | None = None, level: int = logging.INFO) -> None:
    """Log to ``path`` (a rule's log file) or to standard error, with timestamps in UTC."""
    handler = logging.FileHandler(path) if path else logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s")
    formatter.converter = __import__("time").gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
