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

from piccolo.querystring import QueryString

from deliberation.clock import utcnow
from deliberation.database import bound_engine, is_sqlite

EVENT_TYPES = {
    "topic.opened": "新议题",
    "topic.transitioned": "议题进展",
    "opinion.submitted": "新意见",
    "document.published": "文件发布",
    "deadline.due_soon": "即将到期",
    "deadline.overdue": "已逾期",
    "topic.urged": "县政协督办",
    "suggestion.filed": "新的村民建议",
    "suggestion.must_list": "村民建议须列入议题",
    "suggestion.screened": "村民建议审核结果",
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
    payload = json.dumps(data, ensure_ascii=False, default=str)
    # The webhooks that want it: active, not digests, the type in their JSON list.
    wanted = f'%"{event_type}"%'
    engine = bound_engine()
    if is_sqlite(engine):
        inserted = await engine.run_querystring(
            QueryString(
                "INSERT INTO outbox_event (event_id, type, township, topic, payload, created_at) "
                "VALUES ({}, {}, {}, {}, {}, {}) RETURNING id",
                event_id,
                event_type,
                township_id,
                topic_id,
                payload,
                now,
            )
        )
        await engine.run_querystring(
            QueryString(
                f"INSERT INTO delivery {_DELIVERY_COLUMNS} "
                "SELECT {}, id, 'pending', 0, {}, '', {} FROM webhook "
                "WHERE township = {} AND active AND NOT digest AND events LIKE {}",
                inserted[0]["id"],
                now,
                now,
                township_id,
                wanted,
            )
        )
    else:
        # One round trip: the event and its deliveries together.
        await engine.run_querystring(
            QueryString(
                "WITH e AS (INSERT INTO outbox_event "
                "(event_id, type, township, topic, payload, created_at) "
                "VALUES ({}, {}, {}, {}, {}, {}) RETURNING id) "
                f"INSERT INTO delivery {_DELIVERY_COLUMNS} "
                "SELECT e.id, w.id, 'pending', 0, {}, '', {} FROM e, webhook w "
                "WHERE w.township = {} AND w.active AND NOT w.digest AND w.events LIKE {}",
                event_id,
                event_type,
                township_id,
                topic_id,
                payload,
                now,
                now,
                now,
                township_id,
                wanted,
            )
        )
    return event_id


_DELIVERY_COLUMNS = "(event, webhook, status, attempts, next_attempt_at, last_error, created_at)"


def topic_data(topic: dict[str, Any], state: str, state_label: str) -> dict[str, Any]:
    """What every topic event says about its topic."""
    return {
        "topic_id": topic["id"],
        "reference": topic["reference"],
        "title": topic["title"],
        "state": state,
        "state_label": state_label,
    }
