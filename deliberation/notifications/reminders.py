"""The scheduler inside the delivery worker: deadline reminders and daily digests.

Each reminder ("due soon": the stage is due within 2 working days; "overdue") is
emitted once per topic, kind and due date: a ``reminder_sent`` row with a unique
key is written in the same transaction as the outbox event, so running the
scheduler twice — or in two workers, or after a restart — never sends twice, and
a day missed while the worker was down is caught up on the next run.

A suggestion that must be listed (须列入议题) is due for screening by its
``screening_due_on``: the same two reminders, the same rule, once per suggestion, kind
and due date (``suggestion_reminder_sent``), with ``"subject": "suggestion"`` in the
payload and no topic — and no text: webhooks may reach a WeCom group, and the
suggestion is not public before it is screened.
"""

from __future__ import annotations

import functools
import json
import operator
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.querystring import QueryString

from deliberation import open_data, security_log, sessions
from deliberation.clock import CHINA, china_today, utcnow
from deliberation.database import bound_engine, write_transaction
from deliberation.deadlines import refresh_due
from deliberation.notifications.delivery import DeliveryConfig
from deliberation.notifications.outbox import record_event, topic_data
from deliberation.permissions import SUGGESTION_STATUS_LABELS
from deliberation.pinning import loaded, terminal_states, timed_states, workflow_of
from deliberation.tables import Delivery, OutboxEvent, Suggestion, Topic, Webhook
from deliberation.workdays import WorkingDays, working_days

DUE_SOON_WORKING_DAYS = 2
SCREENING_LABEL = "审核村民建议"
"""What is due on a suggestion that must be listed (the reminders' ``due_label``)."""


def _pinned_to_loaded() -> Any:
    """Topics pinned to a loaded workflow version: the scheduler leaves the others
    alone (nothing is due on a topic that cannot be worked; docs/decisions.md, "A
    workflow removed from the folder")."""
    pins = [(Topic.workflow_key == w.key) & (Topic.workflow_version == w.version) for w in loaded()]
    return functools.reduce(operator.or_, pins)


async def refresh_missing_due(limit: int = 500) -> int:
    """Topics that have a time limit but no due date yet (e.g. from before due dates)."""
    rows = await (
        Topic.select(
            Topic.id,
            Topic.state,
            Topic.stage_entered_on,
            Topic.workflow_key,
            Topic.workflow_version,
        )
        .where(
            Topic.due_on.is_null(),
            Topic.state.is_in(list(timed_states())),
            _pinned_to_loaded(),
        )
        .limit(limit)
    )
    for row in rows:
        async with write_transaction():
            await refresh_due(row["id"], row["state"], row["stage_entered_on"], workflow_of(row))
    return len(rows)


async def _remind(topic: dict[str, Any], kind: str, now: datetime) -> bool:
    async with write_transaction():
        inserted = await bound_engine().run_querystring(
            QueryString(
                "INSERT INTO reminder_sent (topic, kind, due_on, created_at) "
                "VALUES ({}, {}, {}, {}) ON CONFLICT (topic, kind, due_on) DO NOTHING "
                "RETURNING id",
                topic["id"],
                kind,
                topic["due_on"],
                now,
            )
        )
        if not inserted:
            return False
        state = workflow_of(topic).state(topic["state"])
        limit = state.time_limit
        await record_event(
            f"deadline.{kind}",
            topic["township"],
            topic["id"],
            {
                **topic_data(topic, topic["state"], state.label),
                "due_on": topic["due_on"].isoformat(),
                "due_label": limit.label if limit else "",
            },
            now=now,
        )
    return True


async def remind(now: datetime | None = None) -> dict[str, int]:
    """Emit the due-soon and overdue reminders that have not been emitted yet."""
    now = now or utcnow()
    today = china_today(now)
    days = await working_days()
    # Two working days can span a long holiday: look three weeks ahead, then count.
    rows = await Topic.select(
        Topic.id,
        Topic.reference,
        Topic.title,
        Topic.state,
        Topic.township,
        Topic.due_on,
        Topic.workflow_key,
        Topic.workflow_version,
    ).where(
        Topic.due_on.is_not_null(),
        Topic.due_on <= today + timedelta(days=21),
        Topic.state.not_in(list(terminal_states())),
        _pinned_to_loaded(),
    )
    sent = {"due_soon": 0, "overdue": 0}
    for topic in rows:
        kind = _reminder_kind(topic["due_on"], today, days)
        if kind is not None:
            sent[kind] += await _remind(topic, kind, now)
    suggestions = await Suggestion.select(
        Suggestion.id,
        Suggestion.reference,
        Suggestion.township,
        Suggestion.village,
        Suggestion.screening_due_on,
    ).where(
        Suggestion.status == "must_list",
        Suggestion.screening_due_on.is_not_null(),
        Suggestion.screening_due_on <= today + timedelta(days=21),
    )
    for suggestion in suggestions:
        kind = _reminder_kind(suggestion["screening_due_on"], today, days)
        if kind is not None:
            sent[kind] += await _remind_screening(suggestion, kind, now)
    return sent


def _reminder_kind(due_on: date, today: date, days: WorkingDays) -> str | None:
    """``overdue`` past the due date, ``due_soon`` within two working days of it."""
    if due_on < today:
        return "overdue"
    if days.count(today, due_on)[0] <= DUE_SOON_WORKING_DAYS:
        return "due_soon"
    return None


async def _remind_screening(suggestion: dict[str, Any], kind: str, now: datetime) -> bool:
    """A must-list suggestion's screening reminder, once per kind and due date."""
    async with write_transaction():
        inserted = await bound_engine().run_querystring(
            QueryString(
                "INSERT INTO suggestion_reminder_sent (suggestion, kind, due_on, created_at) "
                "VALUES ({}, {}, {}, {}) ON CONFLICT (suggestion, kind, due_on) DO NOTHING "
                "RETURNING id",
                suggestion["id"],
                kind,
                suggestion["screening_due_on"],
                now,
            )
        )
        if not inserted:
            return False
        await record_event(
            f"deadline.{kind}",
            suggestion["township"],
            None,
            {
                "subject": "suggestion",
                "suggestion_id": suggestion["id"],
                "reference": suggestion["reference"],
                "status": "must_list",
                "state_label": SUGGESTION_STATUS_LABELS["must_list"],
                "village": suggestion["village"],
                "due_on": suggestion["screening_due_on"].isoformat(),
                "due_label": SCREENING_LABEL,
            },
            now=now,
        )
    return True


async def send_digests(digest_hour: int, now: datetime | None = None) -> int:
    """Once a day, after ``digest_hour`` (China time), one message per digest webhook
    with the day's events it subscribes to."""
    now = now or utcnow()
    local = now.astimezone(CHINA)
    if local.hour < digest_hour:
        return 0
    today = local.date()
    hooks = await Webhook.select().where(
        Webhook.active == True,  # noqa: E712
        Webhook.digest == True,  # noqa: E712
    )
    sent = 0
    for hook in hooks:
        if hook["last_digest_on"] is not None and hook["last_digest_on"] >= today:
            continue
        since = now - timedelta(days=1)
        events = await (
            OutboxEvent.select(OutboxEvent.type, OutboxEvent.payload)
            .where(
                OutboxEvent.township == hook["township"],
                OutboxEvent.type.is_in(json.loads(hook["events"])),
                OutboxEvent.created_at > since,
            )
            .order_by(OutboxEvent.id)
        )
        async with write_transaction():
            claimed = await (
                Webhook.update({Webhook.last_digest_on: today})
                .where(
                    Webhook.id == hook["id"],
                    Webhook.last_digest_on.is_null() | (Webhook.last_digest_on < today),
                )
                .returning(Webhook.id)
            )
            if not claimed or not events:
                continue
            summary = [{"type": e["type"], **json.loads(e["payload"])} for e in events]
            inserted = await OutboxEvent.insert(
                OutboxEvent(
                    event_id=f"digest{hook['id']}d{today:%Y%m%d}",
                    type="digest",
                    township=hook["township"],
                    topic=None,
                    payload=json.dumps({"events": summary}, ensure_ascii=False, default=str),
                    created_at=now,
                )
            )
            await Delivery.insert(
                Delivery(
                    event=inserted[0]["id"],
                    webhook=hook["id"],
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    last_error="",
                    created_at=now,
                )
            )
            sent += 1
    return sent


async def tick(digest_hour: int = 18, now: datetime | None = None) -> None:
    """One scheduler run (the delivery worker calls it every minute)."""
    await refresh_missing_due()
    await remind(now)
    await send_digests(digest_hour, now)


async def scheduler_tick(config: DeliveryConfig) -> None:
    """``tick`` with the worker's configuration (``run_worker``'s scheduler hook), and
    the housekeeping: the security log past its age, sessions long over, the day's
    open data."""
    await tick(config.digest_hour)
    await security_log.prune(config.security_log_days)
    await sessions.prune(config.token_ttl_seconds)
    if config.open_data_dir is not None:
        await open_data.rebuild_if_due(config.open_data_dir, config.public_url)
