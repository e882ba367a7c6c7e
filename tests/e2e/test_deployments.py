"""prefect.yaml on a real server: a retrain run through the worker, the nightly schedule, refused parameters."""

from __future__ import annotations

import json
import time

import pytest
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from cli.deployments import deploy, prefect_client
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse

pytestmark = pytest.mark.e2e
TINY = json.dumps({"epochs": 1, "time_step": 20, "candidates": ["naive", "drift", "simple_rnn-log_return"]})


def scheduled_times(stack, deployment_id, wait: float = 0.0) -> list:
    """Expected start times of the deployment's scheduled runs (waiting up to `wait` s for some)."""
    deadline = time.monotonic() + wait
    while True:
        with prefect_client(stack.api_url) as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
                ),
            )
        if runs or time.monotonic() >= deadline:
            return sorted(run.expected_start_time for run in runs)
        time.sleep(1)


def set_schedule_active(stack, active: bool) -> None:
    """Pause or resume the nightly schedule, as the UI's toggle does."""
    nightly = stack.deployment("nightly/nightly")
    with prefect_client(stack.api_url) as client:
        client.update_deployment_schedule(nightly.id, nightly.schedules[0].id, active=active)


def test_retrain_run_completes_and_its_forecast_is_in_the_warehouse(stack):
    flow_run_id = stack.run_deployment("retrain/retrain", settings=TINY)
    run = stack.wait_final(flow_run_id)
    assert run.state_type == StateType.COMPLETED, run.state.message
    found = Warehouse(stack.warehouse).query(
        "select f.ticker, f.horizon, f.forecast, r.status from forecasts f join runs r using (run_id) "
        f"where r.flow_run_id = '{flow_run_id}' and f.served order by f.horizon"
    )
    horizon = Settings(**json.loads(TINY)).horizon
    assert found["horizon"].tolist() == list(range(1, horizon + 1))  # exactly one served forecast per horizon
    assert set(found.ticker) == {"GOOG"} and set(found.status) == {"completed"}
    assert (found.forecast > 0).all()


def test_nightly_has_one_schedule_after_us_close_with_default_tickers(stack):
    nightly = stack.deployment("nightly/nightly")
    assert [(s.schedule.cron, s.schedule.timezone) for s in nightly.schedules] == [
        ("30 21 * * 1-5", "America/New_York")
    ]
    assert nightly.parameters == {} and nightly.enforce_parameter_schema
    assert nightly.parameter_openapi_schema["properties"]["plan"]["default"]["tickers"] == ["GOOG", "^GSPC"]
    assert stack.deployment("retrain/retrain").schedules == []


def test_redeploying_twice_keeps_one_schedule_and_no_duplicate_runs(stack):
    set_schedule_active(stack, True)
    try:
        before = stack.deployment("nightly/nightly")
        runs_before = scheduled_times(stack, before.id, wait=30)
        deploy(stack.plan)
        deploy(stack.plan)
        after = stack.deployment("nightly/nightly")
        runs_after = scheduled_times(stack, after.id, wait=30)
    finally:
        set_schedule_active(stack, False)
    assert [s.id for s in after.schedules] == [s.id for s in before.schedules]
    assert runs_before and len(set(runs_after)) == len(runs_after) and runs_after == runs_before


def test_redeploying_keeps_a_paused_schedule_and_a_paused_deployment_paused(stack):
    set_schedule_active(stack, False)
    nightly = stack.deployment("nightly/nightly")
    with prefect_client(stack.api_url) as client:
        client.pause_deployment(nightly.id)
    try:
        deploy(stack.plan)
        after = stack.deployment("nightly/nightly")
    finally:
        with prefect_client(stack.api_url) as client:
            client.resume_deployment(nightly.id)
    assert after.paused and [s.active for s in after.schedules] == [False]
    assert scheduled_times(stack, after.id) == []


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"ticker": "../../etc"}, "Validation failed for field 'settings.ticker'"),
        (
            {"epochs": 0},
            "Validation failed for field 'settings.epochs'. Failure reason: 0 is less than the minimum of 1",
        ),
    ],
    ids=["path-like-ticker", "zero-epochs"],
)
def test_a_bad_parameter_is_refused_by_the_server(stack, settings, message):
    retrain = stack.deployment("retrain/retrain")
    with prefect_client(stack.api_url) as client:
        count = client.count_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[retrain.id])))
    done = stack.prefect("deployment", "run", "retrain/retrain", "--param", f"settings={json.dumps(settings)}")
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1 and message in output
    with prefect_client(stack.api_url) as client:
        assert (
            client.count_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[retrain.id])))
            == count
        )
