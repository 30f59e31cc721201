"""The outbox: events worth telling, written in the same transaction as the change.

Nothing is sent from inside a request. ``record_event`` stores the event and one
pending delivery per active (non-digest) webhook of the township that wants it;
the delivery worker sends them later (``delivery.py``), digests collect the rest.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from deliberation.clock import utcnow
from deliberation.tables import Delivery, OutboxEvent, Webhook

EVENT_TYPES = {
    "topic.opened": "新议题",
    "topic.transitioned": "议题进展",
    "opinion.submitted": "新意见",
    "document.published": "文件发布",
    "deadline.due_soon": "即将到期",
    "deadline.overdue": "已逾期",
}
"""Event types a webhook can subscribe to, with their Chinese names."""


async def record_event(
    event_type: str,
    township_id: int,
    topic_id: int | None,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
) -> str:
    """Store the event and its pending deliveries; returns the event id.

    Call it inside the transaction of the change it reports."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    now = now or utcnow()
    event_id = secrets.token_hex(16)
    inserted = await OutboxEvent.insert(
        OutboxEvent(
            event_id=event_id,
            type=event_type,
            township=township_id,
            topic=topic_id,
            payload=json.dumps(data, ensure_ascii=False, default=str),
            created_at=now,
        )
    )
    hooks = await Webhook.select(Webhook.id, Webhook.events).where(
        Webhook.township == township_id,
        Webhook.active == True,  # noqa: E712
        Webhook.digest == False,  # noqa: E712
    )
    wanted = [h["id"] for h in hooks if event_type in json.loads(h["events"])]
    if wanted:
        await Delivery.insert(
            *[
                Delivery(
                    event=inserted[0]["id"],
                    webhook=hook_id,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    last_error="",
                    created_at=now,
                )
                for hook_id in wanted
            ]
        )
    return event_id


def topic_data(topic: dict[str, Any], state: str, state_label: str) -> dict[str, Any]:
    """What every topic event says about its topic."""
    return {
        "topic_id": topic["id"],
        "reference": topic["reference"],
        "title": topic["title"],
        "state": state,
        "state_label": state_label,
    }
