"""A topic's history as one person may see it: its chain's events, each shown as far
as the policy lets that person see the event's record (``permissions.event_view``).

The chain keeps every event whole (it is what ``audit verify`` checks); what leaves
here for a reader who does not see the record in full keeps the event's kind, time,
move and record (its kind, id and revision) and loses the rest: the correction's
reason (clerks write names and telephone numbers in it), the actor (an opinion's
author, a rating's representative, an investigation's recorder) and the digests
(older events hold unkeyed SHA-256 digests of a few possible values: anyone holding
them could test guesses). A reader who sees the record only as counts does not get
its id either. The API's ``GET …/events`` and the page's 办理经过 are both made here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deliberation.paging import Page, Window, keyed, scan
from deliberation.permissions import Subject, allowed, event_view
from deliberation.record_types import NAMED
from deliberation.security import Principal
from deliberation.tables import TopicEvent

NAMED_VIEWS = ("full",)
"""Views of a record in which the people it names are named (the actor among them)."""
WORDED_VIEWS = ("full", "public")
"""Views in which the event's own words (a step's reason, a correction's reason, an
urge's note) are shown: the record in full, or a public topic's move or urge."""

AUTHORED = {kind: storage for kind, (_, storage) in NAMED.items() if storage.author}
"""Records that name their author, who may read them in full (``ReadRule.author_full``):
from the record types (docs/record-kinds.md)."""


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """One event as the reader sees it."""

    seq: int
    kind: str
    record: str
    """The record the event is about ('' for the topic's own events)."""
    view: str
    data: dict[str, Any]
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    """None unless the actor may be named to this reader."""
    actor_name: str
    actor_role: str
    comment: str
    created_at: datetime
    prev_hash: str
    hash: str


def shown_data(view: str, data: dict[str, Any]) -> dict[str, Any]:
    """What of an event's ``data`` a reader with ``view`` of its record gets."""
    if view == "full":
        return data
    if not data.get("record"):
        return {}
    if view in ("summary", "anonymous", "public"):
        return {k: data[k] for k in ("record", "id", "revision") if k in data}
    return {"record": data["record"]}  # counts: that there was one, no more


async def _authors(
    topic_id: int, wanted: set[str], datas: list[dict[str, Any]]
) -> dict[tuple[str, int], int | None]:
    """(record, id) → who added it, for the records of the ``wanted`` kinds the events
    of ``datas`` are about."""
    found: dict[tuple[str, int], int | None] = {}
    for kind in sorted(wanted):
        storage = AUTHORED[kind]
        table: Any = storage.table
        author = getattr(table, storage.author)
        ids = sorted({int(d["id"]) for d in datas if d.get("record") == kind and "id" in d})
        for start in range(0, len(ids), 500):  # a bound on the query's parameters
            rows = await table.select(table.id, author).where(
                (table.topic == topic_id) & table.id.is_in(ids[start : start + 500])
            )
            for r in rows:
                found[(kind, r["id"])] = r[storage.author]
    return found


def _events(topic: dict[str, Any]) -> Any:
    return TopicEvent.select(
        TopicEvent.seq,
        TopicEvent.kind,
        TopicEvent.data,
        TopicEvent.trigger,
        TopicEvent.from_state,
        TopicEvent.to_state,
        TopicEvent.actor,
        TopicEvent.actor.display_name.as_alias("actor_name"),
        TopicEvent.actor.role.as_alias("actor_role"),
        TopicEvent.comment,
        TopicEvent.created_at,
        TopicEvent.prev_hash,
        TopicEvent.hash,
    ).where(TopicEvent.topic == topic["id"])


async def history_page(
    principal: Principal | None, topic: dict[str, Any], window: Window
) -> Page[SeenEvent]:
    """A page of ``topic_history``, by seq: the events this person sees, none other
    counted or shown."""
    return await scan(
        lambda w: keyed(_events(topic), TopicEvent.seq, w),
        lambda row: int(row["seq"]),
        lambda rows: _seen(principal, topic, rows),
        lambda event: event.seq,
        window,
    )


async def topic_history(principal: Principal | None, topic: dict[str, Any]) -> list[SeenEvent]:
    """The events of ``topic`` (a row as ``topics.topic_row`` reads it) this person
    sees, oldest first, each projected to what they may see of its record."""
    return await _seen(principal, topic, await _events(topic).order_by(TopicEvent.seq))


async def _seen(
    principal: Principal | None, topic: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> list[SeenEvent]:
    """``rows`` (events in seq order) as this person sees them, the unseen left out."""
    subject = Subject.of_topic(topic)
    datas = [json.loads(r["data"] or "{}") for r in rows]
    # Whose opinion or rating an event is about matters only to a reader who does not
    # see every one of them in full (a representative: their own are theirs).
    wanted = {
        record
        for record in AUTHORED
        if allowed(principal, "record.read", subject, record).view != "full"
        and any(d.get("record") == record for d in datas)
    }
    authors = await _authors(topic["id"], wanted, datas) if wanted else {}
    views: dict[tuple[str, str, int | None], str] = {}  # a long chain has few kinds
    seen = []
    for row, data in zip(rows, datas, strict=True):
        record = str(data.get("record", ""))
        author = authors.get((record, data.get("id", 0))) if record in wanted else None
        key = (row["kind"], record, author)
        view = views.get(key)
        if view is None:
            about = Subject.of_topic(topic, author) if author is not None else subject
            view = views[key] = event_view(principal, about, row["kind"], record)
        if view == "none":
            continue
        named = view in NAMED_VIEWS
        seen.append(
            SeenEvent(
                seq=row["seq"],
                kind=row["kind"],
                record=record,
                view=view,
                data=shown_data(view, data),
                trigger=row["trigger"],
                from_state=row["from_state"],
                to_state=row["to_state"],
                actor_id=row["actor"] if named else None,
                actor_name=(row["actor_name"] or "") if named else "",
                actor_role=row["actor_role"] or "",
                comment=row["comment"] if view in WORDED_VIEWS else "",
                created_at=row["created_at"],
                prev_hash=row["prev_hash"],
                hash=row["hash"],
            )
        )
    return seen


async def history_before(
    principal: Principal | None, topic: dict[str, Any], before: int | None, limit: int
) -> tuple[list[SeenEvent], bool]:
    """At most ``limit`` of the events this person sees, newest first, older than the
    event ``before`` (its seq; None: from the newest), and whether there are more: the
    topic page's timeline (docs/decisions.md "The topic page shows 50"): ``history_page``'s
    scan, newest first, so a page costs the same on a long chain."""
    page = await scan(
        lambda w: keyed(_events(topic), TopicEvent.seq, w, descending=True),
        lambda row: int(row["seq"]),
        lambda rows: _seen(principal, topic, rows),
        lambda event: event.seq,
        Window(limit=limit, after=before),
    )
    return page.items, page.next_after is not None
