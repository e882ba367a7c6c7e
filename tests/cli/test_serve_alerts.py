"""`nightcast serve`'s alert options: a bad destination or window is one error line before anything starts,
and the two automations nightcast sets up (built here, sent to a server in tests/e2e/test_notifications.py)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from cli import main
from cli.alerts_setup import FAILED, MISSING, automations, describe


@pytest.mark.parametrize(
    "args, message",
    [
        (["--alert-webhook", "ftp://example.org/hook"], "the alert webhook must be an http:// or https:// URL"),
        (["--alert-webhook", "hooks.example.org"], "the alert webhook must be an http:// or https:// URL"),
        (["--alert-block", "team"], "the alert block must be <block-type>/<name>"),
        (["--alert-webhook", "http://127.0.0.1/h", "--alert-block", "slack-webhook/team"], "not both"),
        (["--alert-webhook", "http://127.0.0.1/h", "--alert-missing-after", "0"], "at least 10 seconds"),
    ],
    ids=["not-http", "no-scheme", "block-without-type", "both", "no-window"],
)
def test_a_bad_alert_option_is_one_error_line(capsys, args, message):
    assert main(["serve", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: ") and message in err and err.count("\n") == 1


def test_the_alert_webhook_is_read_from_the_environment_too(capsys, monkeypatch):
    monkeypatch.setenv("NIGHTCAST_ALERT_WEBHOOK", "file:///etc/passwd")
    assert main(["serve"]) == 1
    assert "the alert webhook must be an http:// or https:// URL, not 'file:///etc/passwd'" in capsys.readouterr().err


def test_the_two_automations_watch_the_nightly_deployment_runs():
    deployment, block = uuid4(), uuid4()
    failed, missing = automations(deployment, block, timedelta(hours=4))
    assert (failed.name, missing.name) == (FAILED, MISSING)
    for automation in (failed, missing):
        related = automation.trigger.match_related
        assert related.root["prefect.resource.id"] == f"prefect.deployment.{deployment}"
        assert [action.block_document_id for action in automation.actions] == [block]
    assert failed.trigger.posture.value == "Reactive" and "prefect.flow-run.Failed" in failed.trigger.expect
    assert missing.trigger.posture.value == "Proactive" and missing.trigger.within == timedelta(hours=4)
    assert missing.trigger.after == {"prefect.flow-run.Late", "prefect.flow-run.Pending"}
    assert "prefect.flow-run.Completed" in missing.trigger.expect and "4 h" in missing.actions[0].body
    assert "GOOG, ^GSPC (the plan default)" in failed.actions[0].body


def test_a_window_is_said_in_its_largest_whole_unit():
    assert [describe(timedelta(seconds=s)) for s in (15, 90, 5400, 14400)] == ["15 s", "90 s", "90 min", "4 h"]
