"""Sending the outbox: claim due deliveries, send them with one shared httpx client,
settle each as delivered, retried later (exponential backoff with jitter) or dead.

Claims are leases (``locked_until``): a worker killed in the middle of a batch
leaves its deliveries to be claimed again when the lease runs out, so nothing is
lost (the receiver may see an event twice and de-duplicates by ``X-HSL-Event-Id``).
On PostgreSQL several workers claim with ``FOR UPDATE SKIP LOCKED`` and never take
the same delivery; on SQLite claims are serialised by the write lock.

One receiver cannot stall the others: each attempt has a total deadline (not a
per-read timeout, which a receiver sending a byte every few seconds never trips), reads
at most a few KiB of the answer, and runs as a task of its own, so the loop goes on
claiming other townships' deliveries while a slow one waits; one webhook holds at most
``per_webhook`` of the ``concurrency`` slots, and one township's webhooks together at
most ``per_township`` (a township with several slow receivers took every slot before).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from deliberation.clock import utcnow
from deliberation.database import bound_engine, is_sqlite, write_transaction
from deliberation.notifications.formats import Outgoing, outgoing
from deliberation.notifications.targets import RefusedTarget, Resolver, check_target, resolve
from deliberation.notifications.webhooks import DEACTIVATED
from deliberation.tables import Delivery, OutboxEvent, Webhook

logger = logging.getLogger("deliberation.notifications")


@dataclass(frozen=True)
class DeliveryConfig:
    public_url: str = "http://127.0.0.1:8000"
    allowed_hosts: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    timeout_seconds: float = 10.0
    """The whole attempt: connecting, sending, and reading the answer."""
    lease_seconds: float = 60.0
    max_age_seconds: float = 24 * 3600.0
    batch_size: int = 50
    concurrency: int = 10
    per_webhook: int = 3
    per_township: int = 4
    """All of one township's webhooks together: with 10 slots, even two townships whose
    receivers all trickle leave slots for everyone else (docs/decisions.md)."""
    max_response_bytes: int = 4096
    base_delay_seconds: float = 5.0
    max_delay_seconds: float = 3600.0
    idle_seconds: float = 1.0
    scheduler_seconds: float = 60.0
    digest_hour: int = 18
    security_log_days: int = 365
    """Housekeeping the worker's scheduler also does: the security log's age limit..."""
    token_ttl_seconds: int = 8 * 3600
    """...and how long a session row is worth keeping."""
    open_data_dir: Path | None = None
    """Where the open data is rebuilt once a day (None: not by this process)."""


def retry_delay(attempts: int, config: DeliveryConfig, jitter: Callable[[], float]) -> float:
    """Exponential backoff (base × 2^(attempts−1), capped) times a jitter in [0.5, 1.5)."""
    delay = min(config.max_delay_seconds, config.base_delay_seconds * 2.0 ** max(0, attempts - 1))
    return float(delay * (0.5 + jitter()))


def new_client(config: DeliveryConfig) -> httpx.AsyncClient:
    """The one client every delivery goes through: timeouts, no redirects followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(config.timeout_seconds, connect=min(5.0, config.timeout_seconds)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=config.concurrency * 2),
    )


class Deliverer:
    def __init__(
        self,
        config: DeliveryConfig,
        client: httpx.AsyncClient,
        resolver: Resolver = resolve,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.client = client
        self.resolver = resolver
        self.jitter = jitter
        self._running: set[asyncio.Task[None]] = set()
        self._per_hook: Counter[int] = Counter()
        self._per_town: Counter[int] = Counter()

    async def _claim(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        lease = now + timedelta(seconds=self.config.lease_seconds)
        lock = "" if is_sqlite(bound_engine()) else " FOR UPDATE SKIP LOCKED"
        busy = sorted(h for h, n in self._per_hook.items() if n >= self.config.per_webhook)
        skip = f" AND webhook NOT IN ({', '.join(map(str, busy))})" if busy else ""
        full = sorted(t for t, n in self._per_town.items() if n >= self.config.per_township)
        if full:
            skip += (
                " AND webhook NOT IN (SELECT id FROM webhook WHERE township IN "
                f"({', '.join(map(str, full))}))"
            )
        async with write_transaction():
            rows = list(
                await Delivery.raw(
                    "UPDATE delivery SET locked_until = {}, attempts = attempts + 1 "
                    "WHERE id IN (SELECT id FROM delivery WHERE status = 'pending' "
                    "AND next_attempt_at <= {} AND (locked_until IS NULL OR locked_until < {})"
                    f"{skip} ORDER BY next_attempt_at, id LIMIT {{}}{lock}) "
                    "RETURNING id, event, webhook, attempts",
                    lease,
                    now,
                    now,
                    limit,
                )
            )
            towns = {
                w["id"]: w["township"]
                for w in await Webhook.select(Webhook.id, Webhook.township).where(
                    Webhook.id.is_in(sorted({r["webhook"] for r in rows}) or [0])
                )
            }
            # One webhook, and one township's webhooks, get at most their share of the
            # slots; the rest wait their turn.
            taken: Counter[int] = Counter()
            taken_by_town: Counter[int] = Counter()
            kept, extra = [], []
            for row in sorted(rows, key=lambda r: r["id"]):
                hook = row["webhook"]
                town = row["township"] = towns[hook]
                if (
                    self._per_hook[hook] + taken[hook] < self.config.per_webhook
                    and self._per_town[town] + taken_by_town[town] < self.config.per_township
                ):
                    taken[hook] += 1
                    taken_by_town[town] += 1
                    kept.append(row)
                else:
                    extra.append(row["id"])
            if extra:
                await Delivery.raw(
                    "UPDATE delivery SET locked_until = NULL, attempts = attempts - 1 "
                    f"WHERE id IN ({', '.join(map(str, extra))})"
                )
        return kept

    async def run_once(self, now: datetime | None = None, *, wait: bool = True) -> int:
        """Claim what the free slots allow and start sending it; returns how many
        deliveries were started. ``wait`` waits for every attempt in flight to settle
        (tests, ``drain``); the worker loop does not, so one slow receiver never holds
        up the next claim."""
        now = now or utcnow()
        free = self.config.concurrency - len(self._running)
        claims = await self._claim(now, min(free, self.config.batch_size)) if free > 0 else []
        if claims:
            events = {
                e["id"]: e
                for e in await OutboxEvent.select().where(
                    OutboxEvent.id.is_in(sorted({c["event"] for c in claims}))
                )
            }
            hooks = {
                h["id"]: h
                for h in await Webhook.select().where(
                    Webhook.id.is_in(sorted({c["webhook"] for c in claims}))
                )
            }
            for claim in claims:
                hook = hooks[claim["webhook"]]
                self._per_hook[hook["id"]] += 1
                self._per_town[claim["township"]] += 1
                task = asyncio.create_task(self._deliver(claim, events[claim["event"]], hook, now))
                self._running.add(task)
                task.add_done_callback(
                    functools.partial(self._finished, hook=hook["id"], town=claim["township"])
                )
        if wait:
            await self.settle()
        return len(claims)

    def _finished(self, task: asyncio.Task[None], hook: int, town: int) -> None:
        self._running.discard(task)
        for count, key in ((self._per_hook, hook), (self._per_town, town)):
            count[key] -= 1
            if count[key] <= 0:
                del count[key]
        if not task.cancelled() and task.exception() is not None:
            logger.error("delivery task failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for every attempt in flight (each ends within its deadline)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _deliver(
        self, claim: dict[str, Any], event: dict[str, Any], hook: dict[str, Any], now: datetime
    ) -> None:
        if not hook["active"]:
            await self._settle(claim, event, None, DEACTIVATED, dead=True)
            return
        try:
            await check_target(hook["target_url"], self.config.allowed_hosts, self.resolver)
        except RefusedTarget as refused:
            await self._settle(claim, event, None, f"目标地址被拒绝：{refused.args[0]}", dead=True)
            return
        request = outgoing(hook, event, self.config.public_url, utcnow())
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                status = await self._post(request)
        except TimeoutError:
            error = f"{self.config.timeout_seconds:g} 秒内未完成（接收方过慢）"
            await self._settle(claim, event, None, error)
            return
        except httpx.HTTPError as failure:
            await self._settle(claim, event, None, f"{type(failure).__name__}: {failure}"[:500])
            return
        if 200 <= status < 300:
            await self._settle(claim, event, status, "", delivered=True)
        else:
            await self._settle(claim, event, status, f"HTTP {status}")

    async def _post(self, request: Outgoing) -> int:
        """Send, and read at most ``max_response_bytes`` of the answer (a receiver may
        answer with any amount; nothing of it is needed beyond the status)."""
        async with self.client.stream(
            "POST", request.url, content=request.body, headers=request.headers
        ) as response:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= self.config.max_response_bytes:
                    break
            return response.status_code

    async def _settle(
        self,
        claim: dict[str, Any],
        event: dict[str, Any],
        status: int | None,
        error: str,
        *,
        delivered: bool = False,
        dead: bool = False,
    ) -> None:
        now = utcnow()
        values: dict[Any, Any] = {
            Delivery.locked_until: None,
            Delivery.last_status: status,
            Delivery.last_error: error,
        }
        if delivered:
            values[Delivery.status] = "delivered"
            values[Delivery.delivered_at] = now
        else:
            delay = retry_delay(claim["attempts"], self.config, self.jitter)
            retry_at = now + timedelta(seconds=delay)
            too_old = retry_at - event["created_at"] > timedelta(
                seconds=self.config.max_age_seconds
            )
            if dead or too_old:
                values[Delivery.status] = "dead"
                logger.warning(
                    "delivery %s dead after %s attempts: %s", claim["id"], claim["attempts"], error
                )
            else:
                values[Delivery.next_attempt_at] = retry_at
        async with write_transaction():
            await Delivery.update(values).where(Delivery.id == claim["id"])


async def run_worker(
    config: DeliveryConfig,
    stop: asyncio.Event,
    *,
    client: httpx.AsyncClient | None = None,
    scheduler: Callable[[DeliveryConfig], Any] | None = None,
) -> None:
    """Deliver until ``stop`` is set; run ``scheduler`` (reminders, digests) every
    ``scheduler_seconds``. Errors are logged and retried; the loop never dies of them."""
    own = client is None
    client = client or new_client(config)
    deliverer = Deliverer(config, client)
    next_tick = 0.0
    failures = 0
    try:
        while not stop.is_set():
            try:
                if scheduler is not None and time.monotonic() >= next_tick:
                    # Its next tick is set first: a scheduler that fails (a reminder, the
                    # open data) is retried on its own cadence and never starves delivery.
                    next_tick = time.monotonic() + config.scheduler_seconds
                    try:
                        await scheduler(config)
                    except Exception:
                        logger.exception("scheduler error; deliveries go on")
                sent = await deliverer.run_once(wait=False)
                failures = 0
            except Exception:
                failures += 1
                logger.exception("delivery loop error (%s in a row); retrying", failures)
                sent = 0
            if not sent:
                pause = config.idle_seconds * min(30, 2 ** min(failures, 5))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
    finally:
        await deliverer.settle()
        if own:
            await client.aclose()
