"""Exit codes of every `segment-reports` command, and stopping on SIGTERM.

0 success; 1 a model or test failed, or the command was stopped (Ctrl-C,
SIGTERM, a killed dbt); 2 a configuration, argument or connection error; 75
(EX_TEMPFAIL of sysexits.h) another run holds the target schema's lock: try
again later.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import click

FAILED = 1
CONFIG = 2
LOCKED = 75


class ConfigError(click.ClickException):
    """Bad configuration, arguments or connection: printed as `Error: ...`, exit 2."""

    exit_code = CONFIG


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs (psycopg cancels the
    running query on KeyboardInterrupt)."""


def interruption(exc: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` in the main thread."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
