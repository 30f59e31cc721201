"""Checks behind each declared requirement, read from the topic's records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from deliberation.tables import (
    Document,
    Investigation,
    Meeting,
    ResolutionItem,
    SatisfactionRating,
    SiteConsultation,
)
from workflows import REQUIREMENTS, Requirement, Transition

Check = Callable[[dict[str, Any], str], Awaitable[bool]]


async def _investigation_recorded(topic: dict[str, Any], comment: str) -> bool:
    return bool(await Investigation.exists().where(Investigation.topic == topic["id"]))


async def _site_consultation_recorded(topic: dict[str, Any], comment: str) -> bool:
    return bool(await SiteConsultation.exists().where(SiteConsultation.topic == topic["id"]))


async def _meeting_scheduled(topic: dict[str, Any], comment: str) -> bool:
    return bool(await Meeting.exists().where(Meeting.topic == topic["id"]))


async def _minutes_recorded(topic: dict[str, Any], comment: str) -> bool:
    latest = (
        await Meeting.select(Meeting.minutes_recorded_at)
        .where(Meeting.topic == topic["id"])
        .order_by(Meeting.id, ascending=False)
        .first()
    )
    return latest is not None and latest["minutes_recorded_at"] is not None


async def _resolution_item_added(topic: dict[str, Any], comment: str) -> bool:
    return bool(await ResolutionItem.exists().where(ResolutionItem.topic == topic["id"]))


async def _items_completed(topic: dict[str, Any], comment: str) -> bool:
    total = await ResolutionItem.count().where(ResolutionItem.topic == topic["id"])
    open_items = await ResolutionItem.count().where(
        (ResolutionItem.topic == topic["id"]) & (ResolutionItem.completed == False)  # noqa: E712
    )
    return bool(total > 0 and open_items == 0)


async def _satisfaction_rated(topic: dict[str, Any], comment: str) -> bool:
    return bool(await SatisfactionRating.exists().where(SatisfactionRating.topic == topic["id"]))


async def _resolution_notice_published(topic: dict[str, Any], comment: str) -> bool:
    return bool(
        await Document.exists().where(
            Document.topic == topic["id"],
            Document.kind == "resolution_notice",
            Document.status == "published",
        )
    )


async def _comment_given(topic: dict[str, Any], comment: str) -> bool:
    return bool(comment.strip())


CHECKS: dict[str, Check] = {
    "investigation_recorded": _investigation_recorded,
    "site_consultation_recorded": _site_consultation_recorded,
    "meeting_scheduled": _meeting_scheduled,
    "minutes_recorded": _minutes_recorded,
    "resolution_item_added": _resolution_item_added,
    "items_completed": _items_completed,
    "satisfaction_rated": _satisfaction_rated,
    "comment_given": _comment_given,
    "resolution_notice_published": _resolution_notice_published,
}

# Every declared requirement has a check, and nothing else does.
assert set(CHECKS) == {r.name for r in REQUIREMENTS}, "requirements and checks differ"


async def unmet_requirements(
    transition: Transition, topic: dict[str, Any], comment: str
) -> list[Requirement]:
    return [r for r in transition.requires if not await CHECKS[r.name](topic, comment)]
