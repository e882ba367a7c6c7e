"""Import TensorFlow (and Keras on it) without its native start-up notices on the console.

On some CPUs (AVX-512 ones among them) TensorFlow's C++ side writes notices to file descriptor 2 while it is
imported, before absl's logging is set up, so TF_CPP_MIN_LOG_LEVEL cannot stop them:

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1764000000.000000  1234 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1764000000.000000  1234 cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...
    To enable the following instructions: AVX512F AVX512_VNNI, in other operations, rebuild TensorFlow ...

`load_tensorflow` imports it with fd 2 pointed at a pipe, and a thread forwards every line to the real fd 2
except those notices (NOTICES: only these lines, so a real error from TensorFlow, or anything another thread
writes meanwhile, still arrives). A child process started meanwhile inherits the pipe; the thread keeps
forwarding its lines for as long as it writes.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

NOTICES = (
    re.compile(rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"),
    re.compile(rb"[IW]\d{4} [\d:.]+\s+\d+ (port|cpu_feature_guard|cpu_utils)\.cc:\d+\] .*"),
    re.compile(rb"To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\."),
)
"""Whole lines (without their newline) that TensorFlow's start-up writes to fd 2 whatever its log level."""
_IMPORT_LOCK = threading.Lock()


def is_notice(line: bytes) -> bool:
    """Whether a line of fd 2 is one of TensorFlow's start-up notices."""
    text = line.rstrip(b"\r")
    return any(pattern.fullmatch(text) for pattern in NOTICES)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _forward(source: int, target: int) -> None:
    """Copy source to target line by line, dropping the notices, until every writer has closed source."""
    pending = b""
    try:
        while chunk := os.read(source, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not is_notice(line))
            if kept:
                _write_all(target, kept)
        if pending and not is_notice(pending):
            _write_all(target, pending)
    except OSError:  # the real fd 2 is gone (a closed terminal): nothing left to show
        pass
    finally:
        os.close(source)
        os.close(target)


@contextmanager
def notices_filtered() -> Iterator[None]:
    """While the block runs, fd 2 drops TensorFlow's start-up notices and passes everything else."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    original = os.dup(2)
    source, sink = os.pipe()
    forwarder = threading.Thread(
        target=_forward, args=(source, os.dup(original)), daemon=True, name="stderr-notice-filter"
    )
    forwarder.start()
    os.dup2(sink, 2)
    os.close(sink)
    try:
        yield
    finally:
        if sys.stderr is not None:
            sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last writer in this process closes: the forwarder drains and ends
        os.close(original)
        forwarder.join(timeout=0.5)


def import_quietly(name: str) -> ModuleType:
    """Import a module (TensorFlow, or one that imports it) with its start-up notices filtered from fd 2.

    A module already in sys.modules may still be initializing in another thread: import_module then waits for
    it (sys.modules alone would hand out a half-made module)."""
    if name in sys.modules:
        return importlib.import_module(name)
    with _IMPORT_LOCK:  # one filter at a time: two threads importing at once would nest their pipes
        if name in sys.modules:
            return importlib.import_module(name)
        with notices_filtered():
            return importlib.import_module(name)


def load_tensorflow() -> ModuleType:
    """TensorFlow, imported quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return import_quietly("tensorflow")


def load_keras() -> ModuleType:
    """Keras on the TensorFlow backend, imported quietly."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    load_tensorflow()
    return import_quietly("keras")
