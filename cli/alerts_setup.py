"""The nightly's alerts as Prefect automations: a failed or crashed run, and a run not finished in time.

Both send to one notification block: a Custom Webhook block nightcast keeps (named nightcast-alerts) for a
webhook URL, or any notification block the user made (Slack, email, Teams...). Set up again on every
`nightcast serve`: each automation is found by its name and updated in place, never duplicated, and one
disabled in the UI stays disabled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from cli.common import CliError
from cli.deployments import prefect_client
from cli.serve_setup import Alerts

if TYPE_CHECKING:  # pragma: no cover
    from uuid import UUID

    from prefect.automations import AutomationCore, EventTrigger

NIGHTLY = "nightly/nightly"
WEBHOOK_BLOCK = "nightcast-alerts"
FAILED = "nightcast: nightly failed"
MISSING = "nightcast: nightly not finished in time"
PAYLOAD = {"subject": "{{subject}}", "body": "{{body}}", "text": "{{subject}}\n{{body}}"}
"""The webhook's JSON body: subject and body, and both as `text` (what Slack and Mattermost webhooks read)."""
FINAL_EVENTS = {f"prefect.flow-run.{name}" for name in ("Completed", "Failed", "Crashed", "Cancelled", "TimedOut")}
WHEN = "strftime('%Y-%m-%d %H:%M UTC')"  # Prefect keeps every time in UTC
MORNING = 'Then: nightcast status; nightcast query "select * from alerts".'
TICKERS = (
    "{% set tickers = flow_run.parameters.plan.tickers %}"
    "Tickers: {{ tickers | join(', ') if tickers else 'DEFAULT_TICKERS (the plan default)' }}"
)
FAILED_BODY = (
    "The nightly run {{ flow_run.name }} ended {{ flow_run.state.name }} at {{ flow_run.state.timestamp."
    + WHEN
    + " }}.\n"
    + TICKERS
    + "\nWhy: {{ flow_run.state.message }}\nRun: {{ flow_run | ui_url }}\n"
    + MORNING
)
MISSING_BODY = (
    "The nightly run {{ flow_run.name }}, due at {{ flow_run.expected_start_time."
    + WHEN
    + " }}, has no final state WINDOW after it went {{ flow_run.state.name }}"
    "{{ ' (no worker picked it up: is nightcast serve running?)' if flow_run.state.name == 'Late' else "
    "' (a worker took it and it has not finished)' }}.\n" + TICKERS + "\nRun: {{ flow_run | ui_url }}\n" + MORNING
)


def nightly_trigger(deployment_id: UUID, expect: set[str], **posture: Any) -> EventTrigger:
    """A trigger on the flow runs of the nightly deployment, one bucket per flow run."""
    from prefect.automations import EventTrigger

    return EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={
            "prefect.resource.id": f"prefect.deployment.{deployment_id}",
            "prefect.resource.role": "deployment",
        },
        for_each={"prefect.resource.id"},
        expect=expect,
        threshold=1,
        **posture,
    )


def automations(deployment_id: UUID, block_id: UUID, window: timedelta) -> list[AutomationCore]:
    """The two automations: reactive on a failed run, proactive on a run with no final state in the window."""
    from prefect.automations import AutomationCore, Posture, SendNotification

    from nightcast.plans import NightlyPlan

    window_text = describe(window)
    fill = {"DEFAULT_TICKERS": ", ".join(NightlyPlan().tickers), "WINDOW": window_text}
    failed = nightly_trigger(
        deployment_id,
        {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"},
        posture=Posture.Reactive,
        within=timedelta(0),
    )
    missing = nightly_trigger(
        deployment_id,
        FINAL_EVENTS,
        posture=Posture.Proactive,
        after={"prefect.flow-run.Late", "prefect.flow-run.Pending"},  # due and not taken, or taken by a worker
        within=window,
    )
    return [
        AutomationCore(
            name=FAILED,
            description=f"A run of {NIGHTLY} ended Failed, Crashed or TimedOut.",
            enabled=True,
            trigger=failed,
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject="nightcast: nightly {{ flow_run.name }} {{ flow_run.state.name }}",
                    body=filled(FAILED_BODY, fill),
                )
            ],
        ),
        AutomationCore(
            name=MISSING,
            description=f"A run of {NIGHTLY} has no final state {window_text} after it went Late (no "
            "worker took it) or Pending (a worker took it).",
            enabled=True,
            trigger=missing,
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject="nightcast: nightly {{ flow_run.name }} not finished within " + window_text,
                    body=filled(MISSING_BODY, fill),
                )
            ],
        ),
    ]


def filled(template: str, values: dict[str, str]) -> str:
    """The template with each placeholder word replaced (str.format and % would trip on Jinja's braces)."""
    for word, value in values.items():
        template = template.replace(word, value)
    return template


def describe(window: timedelta) -> str:
    """A window in words: 4 h, 90 min, 15 s."""
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def notification_block(client: Any, alerts: Alerts) -> tuple[UUID, str]:
    """The block to send to, and its <type>/<name>: the user's, or nightcast's webhook block (created or updated)."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.exceptions import ObjectNotFound

    if alerts.webhook:
        block = CustomWebhookNotificationBlock(name=WEBHOOK_BLOCK, url=alerts.webhook, json_data=PAYLOAD)
        block_id = cast("UUID", block.save(WEBHOOK_BLOCK, overwrite=True))  # sync here: no event loop runs
        return block_id, f"custom-webhook/{WEBHOOK_BLOCK}"
    assert alerts.block
    slug, _, name = alerts.block.partition("/")
    try:
        document = client.read_block_document_by_name(name, slug, include_secrets=False)
    except ObjectNotFound:
        raise CliError(f"no block {alerts.block} on the Prefect server: create it (UI: Blocks) first") from None
    if "notify" not in (document.block_schema.capabilities if document.block_schema else []):
        raise CliError(f"block {alerts.block} is not a notification block")
    return document.id, alerts.block


def upsert(client: Any, automation: AutomationCore) -> None:
    """Create the automation, or update the one of that name in place (keeping it disabled if it was)."""
    found = client.read_automations_by_name(automation.name)
    if not found:
        client.create_automation(automation)
        return
    client.update_automation(found[0].id, automation.model_copy(update={"enabled": found[0].enabled}))
    for duplicate in found[1:]:
        client.delete_automation(duplicate.id)


def set_up_alerts(api_url: str, alerts: Alerts) -> str:
    """Create or update both automations for the configured destination; the one line that says what was done."""
    with prefect_client(api_url) as client:
        if not alerts.on:
            kept = [a for name in (FAILED, MISSING) for a in client.read_automations_by_name(name)]
            if kept:
                return f"alerts: no destination given; the {len(kept)} automations set up earlier are kept as they are"
            return (
                "alerts are off: give --alert-webhook URL (or NIGHTCAST_ALERT_WEBHOOK), or --alert-block TYPE/NAME "
                "for a notification block"
            )
        block_id, block = notification_block(client, alerts)
        deployment = client.read_deployment_by_name(NIGHTLY)
        for automation in automations(deployment.id, block_id, alerts.missing_after):
            upsert(client, automation)
    return (
        f"alerts to {block}: a nightly run Failed or Crashed, and one not finished "
        f"{describe(alerts.missing_after)} after it was due"
    )
