"""The Prefect UI in headless Debian Chromium: open the retrain deployment, Run -> Quick run, the run completes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import StateType

from cli.deployments import deploy, prefect_client
from tests.e2e.conftest import chromium

pytestmark = pytest.mark.e2e
PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "test-artifacts"
TINY_DEFAULTS = {"settings": {"epochs": 1, "time_step": 20, "candidates": ["naive", "drift", "simple_rnn-log_return"]}}


@pytest.fixture(scope="module")
def tiny_retrain(stack, tmp_path_factory):
    """Redeploy `retrain` from a copy of prefect.yaml that only adds tiny defaults (a quick run uses them)."""
    config = yaml.safe_load((PROJECT / "prefect.yaml").read_text())
    [retrain] = [d for d in config["deployments"] if d["name"] == "retrain"]
    retrain["parameters"] = TINY_DEFAULTS
    copy = tmp_path_factory.mktemp("tiny") / "prefect.yaml"
    copy.write_text(yaml.safe_dump(config, sort_keys=False))
    deploy(stack.plan, str(copy), "retrain")
    yield
    deploy(stack.plan, "prefect.yaml", "retrain")  # the real defaults again


@pytest.fixture
def page():
    """A page of headless Debian Chromium."""
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1400, "height": 900})


def new_run_ids(stack, deployment_id, known: set) -> set:
    """Ids of the deployment's flow runs that are not in `known`."""
    with prefect_client(stack.api_url) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
    return {str(run.id) for run in runs} - known


def quick_run(page, stack, deployment_id, before: set) -> set:
    """Run > Quick run on the deployment's page until the UI says the run is scheduled; the new runs' ids. On a
    loaded machine a click can land before the menu's handlers are ready and schedule nothing: the menu is
    asked once more then (never when a run was made)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for attempt in (1, 2):
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Quick run", exact=True).click()
        try:
            page.get_by_text("scheduled to start now").first.wait_for(timeout=90_000 * attempt)
            return new_run_ids(stack, deployment_id, before)
        except PlaywrightTimeoutError:
            if attempt == 2 or new_run_ids(stack, deployment_id, before):
                raise
    raise AssertionError("unreachable")


def test_quick_run_from_the_ui_completes(stack, tiny_retrain, page):
    ui = stack.api_url.removesuffix("/api")
    page.set_default_timeout(180_000)  # a bound on waiting for the UI, generous for a loaded 2-core machine
    deployment_id = stack.deployment("retrain/retrain").id
    before = new_run_ids(stack, deployment_id, set())
    page.goto(f"{ui}/deployments")
    page.get_by_role("link", name="retrain", exact=True).first.click()
    page.wait_for_url(re.compile(r"/deployments/deployment/"))
    [flow_run_id] = quick_run(page, stack, deployment_id, before)
    run = stack.wait_final(flow_run_id)
    page.goto(f"{ui}/runs/flow-run/{flow_run_id}")
    page.get_by_text("Finished in state Completed").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "e2e-quick-run.png")
    assert run.state_type == StateType.COMPLETED, run.state.message
    assert run.parameters == TINY_DEFAULTS
