"""Alerts through Prefect automations, on a real server set up by `nightcast serve`'s code with a local HTTP
receiver as the webhook: a failed nightly run and a nightly run no worker takes each send their message."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prefect.client.schemas.actions import WorkPoolUpdate
from prefect.client.schemas.objects import StateType
from prefect.states import Scheduled

from cli.alerts_setup import FAILED, MISSING, set_up_alerts
from cli.common import CliError
from cli.deployments import POOL, prefect_client
from cli.serve_command import serving
from cli.serve_setup import Alerts, ServeSetup
from tests.e2e.conftest import PROJECT, Stack, free_port

pytestmark = pytest.mark.e2e
WINDOW = timedelta(seconds=15)  # the missing-run window of this server's automation (Prefect's least is 10 s)


class Receiver(ThreadingHTTPServer):
    """A webhook on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        """The webhook's URL."""
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, wanted: Callable[[dict], bool], timeout: float = 90.0) -> dict:
        """The first message that is wanted, waiting up to timeout seconds (automations act within seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [message for message in self.messages if wanted(message)]
            if found:
                return found[0]
            time.sleep(0.5)
        raise AssertionError(f"no such message in {timeout:.0f} s; received: {self.messages}")


class Handler(BaseHTTPRequestHandler):
    """Keeps the body, answers 204."""

    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.messages.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """The webhook, serving in a thread for the module."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def alerting(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Stack]:
    """A server of its own with the alerts on (the shared stack's have none), a 15 s missing-run window and
    runs marked Late 1 s after they were due; the nightly's real schedule paused."""
    root = tmp_path_factory.mktemp("alerts")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIGHTCAST_ALERT"))}
    env.update(
        PREFECT_HOME=str(root / "prefect"),
        NIGHTCAST_WAREHOUSE=str(root / "warehouse"),
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS="1",
        PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS="1",
    )
    (root / "logs").mkdir()
    alerts = Alerts(webhook=receiver.url, missing_after=WINDOW)
    plan = ServeSetup(project=PROJECT, port=free_port(), env=env, log_dir=root / "logs", alerts=alerts)
    with serving(plan):
        stack = Stack(plan=plan, warehouse=root / "warehouse")
        nightly = stack.deployment("nightly/nightly")
        with prefect_client(stack.api_url) as client:
            client.update_deployment_schedule(nightly.id, nightly.schedules[0].id, active=False)
        yield stack


def test_a_failed_nightly_run_sends_its_message_to_the_webhook(alerting, receiver):
    flow_run_id = alerting.run_deployment("nightly/nightly", plan=json.dumps({"tickers": ["NOPE"]}))
    run = alerting.wait_final(flow_run_id)
    assert run.state_type == StateType.FAILED, run.state.message
    message = receiver.wait_for(lambda m: run.name in m["subject"] and "Failed" in m["subject"])
    assert message["subject"] == f"nightcast: nightly {run.name} Failed"
    body = message["body"]
    assert "Tickers: NOPE" in body and "no bundled sample prices for 'NOPE'" in body, body
    assert f"/runs/flow-run/{flow_run_id}" in body and message["text"] == f"{message['subject']}\n{body}"


def test_a_nightly_run_no_worker_takes_sends_the_missing_run_message(alerting, receiver):
    nightly = alerting.deployment("nightly/nightly")
    with prefect_client(alerting.api_url) as client:
        client.update_work_pool(POOL, WorkPoolUpdate(is_paused=True))  # as if no worker were running
        try:
            run = client.create_flow_run_from_deployment(
                nightly.id, state=Scheduled(scheduled_time=datetime.now(UTC) + timedelta(seconds=1))
            )
            message = receiver.wait_for(lambda m: run.name in m["subject"] and "not finished" in m["subject"])
        finally:
            client.delete_flow_run(run.id)
            client.update_work_pool(POOL, WorkPoolUpdate(is_paused=False))
    assert message["subject"] == f"nightcast: nightly {run.name} not finished within 15 s"
    assert "has no final state 15 s after it went Late (no worker picked it up" in message["body"], message["body"]
    assert "Tickers: GOOG, ^GSPC (the plan default)" in message["body"]


def test_setting_up_again_updates_both_automations_in_place_and_keeps_a_disabled_one_disabled(alerting, receiver):
    with prefect_client(alerting.api_url) as client:
        before = {name: client.read_automations_by_name(name) for name in (FAILED, MISSING)}
        client.pause_automation(before[MISSING][0].id)
    try:
        set_up_alerts(alerting.api_url, Alerts(webhook=receiver.url, missing_after=timedelta(hours=4)))
        kept = set_up_alerts(alerting.api_url, Alerts())
        with prefect_client(alerting.api_url) as client:
            after = {name: client.read_automations_by_name(name) for name in (FAILED, MISSING)}
    finally:
        set_up_alerts(alerting.api_url, Alerts(webhook=receiver.url, missing_after=WINDOW))
        with prefect_client(alerting.api_url) as client:
            client.resume_automation(before[MISSING][0].id)
    assert [a.id for a in after[FAILED]] == [a.id for a in before[FAILED]] and len(after[FAILED]) == 1
    assert [a.id for a in after[MISSING]] == [a.id for a in before[MISSING]] and len(after[MISSING]) == 1
    assert after[FAILED][0].enabled and not after[MISSING][0].enabled
    assert after[MISSING][0].trigger.within == timedelta(hours=4)
    assert "kept as they are" in kept


def test_an_existing_notification_block_is_used_by_name_and_anything_else_refused(alerting, receiver):
    from prefect.blocks.system import Secret

    with prefect_client(alerting.api_url):
        Secret(value="not a notifier").save("not-a-notifier", overwrite=True)
    try:
        line = set_up_alerts(alerting.api_url, Alerts(block="custom-webhook/nightcast-alerts", missing_after=WINDOW))
        with pytest.raises(CliError, match="no block slack-webhook/team on the Prefect server"):
            set_up_alerts(alerting.api_url, Alerts(block="slack-webhook/team"))
        with pytest.raises(CliError, match="block secret/not-a-notifier is not a notification block"):
            set_up_alerts(alerting.api_url, Alerts(block="secret/not-a-notifier"))
    finally:
        set_up_alerts(alerting.api_url, Alerts(webhook=receiver.url, missing_after=WINDOW))
    assert line.startswith("alerts to custom-webhook/nightcast-alerts: ")
