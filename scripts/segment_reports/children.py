"""Child processes that never outlive the command that started them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies.

    Covers a parent killed with SIGKILL, which has no chance to stop its
    children. `parent` is the pid the caller expects as its parent: when the
    parent already died before this call (the child now belongs to init), the
    process exits at once. Linux only; elsewhere a no-op.
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def dbt_child_started(parent: int) -> None:
    """In a dbt process `run` starts, before exec: die with the parent, and take
    Ctrl-C's SIGINT, which `run` sends to stop dbt, even when whoever started
    `run` ignores it (a background job of a shell script or cron's `&` starts
    commands with SIGINT ignored, and an ignored signal stays ignored across
    exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    die_with_parent(signal.SIGTERM, parent)


def describe_signal(number: int) -> str:
    """`9` -> `signal 9 (SIGKILL)`."""
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"
