"""The county (县政协): every township's topics at a glance, overdue first, the
villagers' suggestions whose screening is overdue, and the urge (督办) of an overdue
topic.

An urge is an event on the topic's chain (``topic.urged``, public like the moves),
kept on the topic for its current stage so the township sees a banner and its work
queue puts the topic first until the topic moves on (the next transition clears it),
and sent to the township's webhooks as ``topic.urged``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from deliberation.changes import topic_change
from deliberation.clock import china_today, chinese_datetime, utcnow
from deliberation.deadlines import due_label
from deliberation.errors import AlreadyUrged, ValidationFailed
from deliberation.permissions import Subject, allowed
from deliberation.pinning import timed_states, workflow_of
from deliberation.schemas import (
    CountyRead,
    CountyTownship,
    CountyWorkflow,
    OverdueSuggestionRead,
    OverdueTopicRead,
    UrgeRead,
)
from deliberation.security import Principal
from deliberation.statistics import states_of, workflow_versions
from deliberation.tables import Account, Suggestion, Topic, Township
from deliberation.topics import topic_row

OVERDUE_LISTED = 200
"""At most this many overdue topics on the county view (the longest overdue first)."""
URGE_WINDOW = timedelta(hours=24)
"""A topic is urged at most once in this time while it stays in its stage (the next
transition clears the urge, so the next stage may be urged at once). Twenty urges sent
together are one urge, one chain event and one webhook event (docs/decisions.md)."""


async def urge(principal: Principal, topic_id: int, note: str) -> UrgeRead:
    """督办: the supervisor's note on an overdue topic, in one transaction with its
    chain event and its webhook deliveries."""
    note = note.strip()
    topic = await topic_row(topic_id)
    allowed(principal, "topic.urge", Subject.of_topic(topic)).check()
    if not note:
        raise ValidationFailed([{"field": "note", "message": "请写明督办意见"}])
    now = utcnow()
    # The topic's row is locked (PostgreSQL; SQLite's write transaction is exclusive)
    # before the last urge is looked at: concurrent urges queue here, and each sees the
    # one before it.
    async with topic_change(principal, topic_id, "topic.urge") as change:
        topic = change.topic  # as it stands inside the transaction
        if topic["urged_at"] is not None and now - topic["urged_at"] < URGE_WINDOW:
            raise await _already_urged(topic)
        await Topic.update(
            {Topic.urged_at: now, Topic.urge_note: note, Topic.urged_by: principal.id}
        ).where(Topic.id == topic_id)
        event = await change.appended("topic.urged", comment=note, now=now)
    name = await Account.select(Account.display_name).where(Account.id == principal.id).first()
    return UrgeRead(
        topic_id=topic_id,
        reference=topic["reference"],
        note=note,
        urged_at=now,
        urged_by=principal.id,
        urged_by_name=name["display_name"] if name else "",
        seq=event.seq,
    )


async def _already_urged(topic: dict[str, Any]) -> AlreadyUrged:
    """The refusal of a second urge within the window: when, by whom, and from when the
    topic may be urged again."""
    urged_at: datetime = topic["urged_at"]
    who = await Account.select(Account.display_name).where(Account.id == topic["urged_by"]).first()
    by = f"由{who['display_name']}" if who else ""
    return AlreadyUrged(
        f"该议题已于{chinese_datetime(urged_at)}{by}督办，乡镇已在议题页和工作台看到督办意见；"
        f"同一阶段 24 小时内不重复督办，如仍未推进，可于{chinese_datetime(urged_at + URGE_WINDOW)}"
        "后再次督办。",
        urged_at=urged_at.isoformat(),
    )


async def county_view(principal: Principal) -> CountyRead:
    """Every township: topics by state, and by workflow in each workflow's own states;
    how many overdue and urged, the on-time share; then the overdue topics, the longest
    overdue first. Counted by the database (one grouped query), so it stays quick at
    fifty townships of hundreds of topics. Whether a state is final or timed is read
    from the workflow version each group of topics is pinned to."""
    allowed(principal, "county.read").check()
    today = china_today()
    lines = {
        r["id"]: CountyTownship(
            id=r["id"],
            name=r["name"],
            by_state={},
            total=0,
            active=0,
            timed=0,
            overdue=0,
            urged=0,
            on_time_share=None,
        )
        for r in await Township.select(Township.id, Township.name).order_by(Township.id)
    }
    grouped = await Topic.raw(
        "SELECT township, state, count(*) AS n, "
        "sum(CASE WHEN due_on IS NOT NULL THEN 1 ELSE 0 END) AS timed, "
        "sum(CASE WHEN due_on < {} THEN 1 ELSE 0 END) AS overdue, "
        "sum(CASE WHEN urged_at IS NOT NULL THEN 1 ELSE 0 END) AS urged, "
        "workflow_key, workflow_version "
        "FROM topic GROUP BY township, state, workflow_key, workflow_version",
        today,
    )
    with_limits = timed_states()
    versions = workflow_versions()
    for row in grouped:
        line = lines.get(row["township"])
        if line is None:
            continue
        n = int(row["n"])
        state = workflow_of(row).state(row["state"])
        line.by_state[row["state"]] = line.by_state.get(row["state"], 0) + n
        line.total += n
        if not state.terminal:
            line.active += n
            line.urged += int(row["urged"] or 0)
        if state.time_limit is not None:
            line.timed += int(row["timed"] or 0)
            line.overdue += int(row["overdue"] or 0)
        key = row["workflow_key"]
        mine = line.by_workflow.get(key)
        if mine is None:
            # A key no file declares any more is counted under its stand-in's name.
            known = versions.get(key) or [workflow_of(row)]
            mine = line.by_workflow[key] = CountyWorkflow(
                label=known[0].label,
                total=0,
                by_state={s.name: 0 for s in states_of(known)},
            )
        mine.total += n
        mine.by_state[row["state"]] = mine.by_state.get(row["state"], 0) + n
    for line in lines.values():  # each workflow in report order
        order = [*versions, *sorted(set(line.by_workflow) - set(versions))]
        line.by_workflow = {k: line.by_workflow[k] for k in order if k in line.by_workflow}
    conditions = [Topic.due_on < today, Topic.state.is_in(list(with_limits))]
    rows = (
        await Topic.select(
            Topic.id,
            Topic.reference,
            Topic.title,
            Topic.township,
            Topic.township.name.as_alias("township_name"),
            Topic.state,
            Topic.due_on,
            Topic.urged_at,
            Topic.workflow_key,
            Topic.workflow_version,
        )
        .where(*conditions)
        .order_by(Topic.due_on)
        .order_by(Topic.id)
        .limit(OVERDUE_LISTED)
    )
    overdue = [_overdue(r, today) for r in rows]
    for line in lines.values():
        if line.timed:
            line.on_time_share = (line.timed - line.overdue) / line.timed
    ordered = sorted(lines.values(), key=lambda t: (-t.overdue, t.id))
    return CountyRead(
        townships=ordered,
        overdue=overdue,
        overdue_total=sum(t.overdue for t in ordered),
        overdue_suggestions=await _suggestions(lines, today),
        as_of=today,
    )


async def _suggestions(
    lines: dict[int, CountyTownship], today: date
) -> list[OverdueSuggestionRead]:
    """Each township's suggestions that must be listed and are not screened, how many
    of them are past their screening deadline, and those, the longest overdue first."""
    grouped = await Suggestion.raw(
        "SELECT township, count(*) AS n, "
        "sum(CASE WHEN screening_due_on < {} THEN 1 ELSE 0 END) AS overdue "
        "FROM suggestion WHERE status = 'must_list' GROUP BY township",
        today,
    )
    for row in grouped:
        line = lines.get(row["township"])
        if line is not None:
            line.suggestions_must_list = int(row["n"])
            line.suggestions_overdue = int(row["overdue"] or 0)
    rows = (
        await Suggestion.select(
            Suggestion.id,
            Suggestion.reference,
            Suggestion.public_title,
            Suggestion.township,
            Suggestion.township.name.as_alias("township_name"),
            Suggestion.village,
            Suggestion.village.name.as_alias("village_name"),
            Suggestion.screening_due_on,
        )
        .where(Suggestion.status == "must_list", Suggestion.screening_due_on < today)
        .order_by(Suggestion.screening_due_on)
        .order_by(Suggestion.id)
        .limit(OVERDUE_LISTED)
    )
    return [
        OverdueSuggestionRead(
            id=r["id"],
            reference=r["reference"],
            title=r["public_title"],
            township_id=r["township"],
            township_name=r["township_name"],
            village_id=r["village"],
            village_name=r["village_name"],
            due_on=r["screening_due_on"],
            days_overdue=(today - r["screening_due_on"]).days,
        )
        for r in rows
    ]


def _overdue(row: dict[str, Any], today: date) -> OverdueTopicRead:
    workflow = workflow_of(row)
    return OverdueTopicRead(
        id=row["id"],
        reference=row["reference"],
        title=row["title"],
        township_id=row["township"],
        township_name=row["township_name"],
        state=row["state"],
        state_label=workflow.state(row["state"]).label,
        due_on=row["due_on"],
        due_label=due_label(row["state"], row["due_on"], workflow),
        days_overdue=(today - row["due_on"]).days,
        urged_at=row["urged_at"],
    )
