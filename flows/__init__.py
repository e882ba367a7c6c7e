"""Prefect flows: they wire the stages of tasks/ and keep the books of each run.

Importing the package sets up Prefect's logging and keeps expected failures (bad data, bad settings,
an unreachable source) off the console's tracebacks, in the CLI and in a Prefect worker alike; the
Prefect run records them in full.
"""

from prefect.logging.configuration import ensure_logging_setup

from nightcast.console import hide_expected_failures

ensure_logging_setup()  # Prefect's console and API handlers exist from here on
hide_expected_failures()
