"""Child processes that end with their parent, however the parent ends (SIGKILL included).

Linux delivers a chosen signal to a process when the thread that created it ends (`prctl(PR_SET_PDEATHSIG)`),
and nothing can catch SIGKILL, so a child given SIGKILL that way cannot outlive its parent: not after a
`kill -9` of `nightcast run`, a cron timeout or the OOM killer. Elsewhere (macOS, Windows) there is no such
call: `death_signal_hook` returns None there and a child is stopped only when its parent exits normally.

The signal follows the creating *thread*: a child must be started from a thread that lives as long as the
process (the main thread), or it dies when that thread ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
"""prctl's option number (linux/prctl.h)."""


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, or None where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def death_signal_hook() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen that has the child SIGKILLed when its parent dies; None where the
    system has no such call. Everything is looked up before the fork: the hook only calls prctl and, if the
    parent died between the fork and the call (the signal would then never come), ends the child at once."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return hook
