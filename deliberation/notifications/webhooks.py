"""Webhook subscriptions: who may create them, their deliveries, retrying the dead."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

from deliberation.clock import utcnow
from deliberation.database import write_transaction
from deliberation.errors import Forbidden, NotFound, ValidationFailed
from deliberation.notifications.outbox import EVENT_TYPES
from deliberation.notifications.targets import RefusedTarget, Resolver, check_target, resolve
from deliberation.paging import Page, Window, keyed, page_of
from deliberation.permissions import Subject, allowed, scope
from deliberation.schemas import DeliveryRead, WebhookCreate, WebhookRead
from deliberation.scoping import township_conditions
from deliberation.security import Principal
from deliberation.tables import Delivery, Township, Webhook
from deliberation.topics import valid_id


def _read(row: dict[str, Any], secret: str | None = None) -> WebhookRead:
    return WebhookRead(
        id=row["id"],
        township_id=row["township"],
        target_url=row["target_url"],
        format=row["format"],
        events=json.loads(row["events"]),
        digest=row["digest"],
        active=row["active"],
        created_at=row["created_at"],
        secret=secret,
    )


def _township_of(principal: Principal, requested: int | None) -> int:
    seen = scope(principal, "webhook.list").check()
    if not seen.everywhere:
        if requested not in (None, seen.township_id):
            raise Forbidden("工作人员只能为本乡镇设置消息推送")
        assert seen.township_id is not None
        return seen.township_id
    if requested is None:
        raise ValidationFailed([{"field": "township_id", "message": "管理员需指定乡镇"}])
    return requested


async def create_webhook(
    principal: Principal,
    data: WebhookCreate,
    allowed_hosts: Iterable[tuple[str, int]],
    resolver: Resolver = resolve,
) -> WebhookRead:
    township_id = _township_of(principal, data.township_id)
    if not await Township.exists().where(Township.id == township_id):
        raise ValidationFailed([{"field": "township_id", "message": "乡镇不存在"}])
    url = data.target_url.strip()
    try:
        await check_target(url, allowed_hosts, resolver)
    except RefusedTarget as refused:
        raise ValidationFailed([{"field": "target_url", "message": refused.args[0]}]) from None
    secret = secrets.token_hex(32)
    events = sorted(set(data.events or EVENT_TYPES))
    row = Webhook(
        township=township_id,
        target_url=url,
        format=data.format,
        events=json.dumps(events),
        digest=data.digest,
        secret=secret,
        active=True,
        created_by=principal.id,
        created_at=utcnow(),
    )
    await row.save()
    return _read(row.to_dict(), secret)


DEACTIVATED = "消息推送已停用，不再发送"


async def _visible(principal: Principal, webhook_id: int) -> dict[str, Any]:
    allowed(principal, "webhook.manage").check()
    row = (
        await Webhook.select().where(Webhook.id == webhook_id).first()
        if valid_id(webhook_id)
        else None
    )
    if row is None:
        raise NotFound("消息推送不存在")
    allowed(principal, "webhook.manage", Subject.township(row["township"])).check()
    return dict(row)


async def list_webhooks(principal: Principal) -> list[WebhookRead]:
    seen = scope(principal, "webhook.list").check()
    query = Webhook.select().order_by(Webhook.id)
    for condition in township_conditions(seen, Webhook.township):
        query = query.where(condition)
    return [_read(r) for r in await query]


async def deactivate_webhook(principal: Principal, webhook_id: int) -> WebhookRead:
    """Nothing is sent to it from now on: its queued deliveries and retries are given
    up in the same step (the delivery loop also checks the hook before each attempt)."""
    row = await _visible(principal, webhook_id)
    async with write_transaction():
        await Webhook.update({Webhook.active: False}).where(Webhook.id == webhook_id)
        await Delivery.update(
            {Delivery.status: "dead", Delivery.last_error: DEACTIVATED, Delivery.locked_until: None}
        ).where((Delivery.webhook == webhook_id) & (Delivery.status == "pending"))
    return _read({**row, "active": False})


async def list_deliveries(
    principal: Principal, webhook_id: int, status: str | None, window: Window
) -> Page[DeliveryRead]:
    """The webhook's deliveries, newest first, a page at a time: ``window.after`` is the
    id of the last delivery of the page before (docs/decisions.md, "Paged lists")."""
    await _visible(principal, webhook_id)
    query = (
        Delivery.select(
            *Delivery.all_columns(),
            Delivery.event.event_id.as_alias("event_id"),
            Delivery.event.type.as_alias("event_type"),
            Delivery.event.topic.as_alias("topic_id"),
        )
    ).where(Delivery.webhook == webhook_id)
    if status:
        query = query.where(Delivery.status == status)
    rows = await keyed(query, Delivery.id, window, descending=True)
    return page_of(rows, window, lambda r: int(r["id"])).map(_delivery_reads)


def _delivery_reads(rows: list[dict[str, Any]]) -> list[DeliveryRead]:
    return [
        DeliveryRead(
            id=r["id"],
            event_id=r["event_id"],
            event_type=r["event_type"],
            topic_id=r["topic_id"],
            status=r["status"],
            attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"],
            last_status=r["last_status"],
            last_error=r["last_error"],
            delivered_at=r["delivered_at"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def retry_dead(webhook_id: int | None = None) -> int:
    """Give dead deliveries another round (``deliberation outbox retry``); how many."""
    active = Webhook.select(Webhook.id).where(Webhook.active == True)  # noqa: E712
    conditions: list[Any] = [Delivery.status == "dead", Delivery.webhook.is_in(active)]
    if webhook_id is not None:
        conditions.append(Delivery.webhook == webhook_id)
    revived = (
        await Delivery.update(
            {
                Delivery.status: "pending",
                Delivery.next_attempt_at: utcnow(),
                Delivery.locked_until: None,
                Delivery.attempts: 0,
            }
        )
        .where(*conditions)
        .returning(Delivery.id)
    )
    return len(revived)
