"""What the nightcast command shows on the console: no TensorFlow start-up noise, no traceback for an
expected failure (the Prefect run keeps the full record)."""

from __future__ import annotations

import logging
import os
import warnings

from nightcast.errors import is_expected

QUIET_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow's and absl's C++ start-up notices (oneDNN, CPU features)
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def quiet_environment() -> None:
    """Set the quiet defaults before TensorFlow or Prefect is imported (a user's own values win)."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    warnings.filterwarnings("ignore", message="SOCKS support in urllib3")  # a proxy setting, not ours


class HideExpectedFailures(logging.Filter):
    """A console-handler filter: drop a record that carries an expected failure (with its traceback), and a
    task run's "Finished in state Failed(...)" error line, which repeats the failure its flow reports.

    A bug keeps its traceback: the task's or the flow's record of the exception passes. Only the console's
    handlers get this filter; Prefect's API handler sees every record, so the UI keeps the full detail.
    The command then ends with its own one-line error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_expected(record.exc_info[1]):
            return False
        repeat = getattr(record, "task_run_id", None) and record.getMessage().startswith("Finished in state Failed")
        return not (record.levelno >= logging.ERROR and repeat)


def hide_expected_failures() -> None:
    """Attach HideExpectedFailures to every console (stream) handler of the root logger, once."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not any(
            isinstance(f, HideExpectedFailures) for f in handler.filters
        ):
            handler.addFilter(HideExpectedFailures())
