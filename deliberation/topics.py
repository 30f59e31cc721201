"""Topics: opening, reading, listing, and firing workflow triggers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from piccolo.columns.combination import WhereRaw

from deliberation import changes, offerings
from deliberation.clock import china_today, utcnow
from deliberation.database import is_sqlite, row_by_id, write_transaction
from deliberation.deadlines import due_label, due_of, is_overdue
from deliberation.errors import (
    Forbidden,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from deliberation.history import SeenEvent, history_page, topic_history
from deliberation.machines import decide
from deliberation.paging import Page, Window
from deliberation.permissions import (
    Subject,
    allowed,
    available_triggers,
    scope,
    sees_time_limits,
)
from deliberation.pinning import loaded, pin, state_names, terminal_states, workflow_of
from deliberation.schemas import EventRead, TopicCreate, TopicPage, TopicRead, TopicWorkflow
from deliberation.scoping import topic_conditions
from deliberation.search import (
    bigrams,
    count_grams,
    gram_total,
    normalise,
    search_fields,
    title_grams,
)
from deliberation.security import Principal
from deliberation.tables import ReferenceCounter, Topic, Village
from deliberation.tallies import topic_tallies
from workflows import Workflow

TOPIC_COLUMNS = (
    Topic.id,
    Topic.reference,
    Topic.title,
    Topic.description,
    Topic.category,
    Topic.township,
    Topic.village,
    Topic.state,
    Topic.version,
    Topic.opened_by,
    Topic.created_at,
    Topic.updated_at,
    Topic.stage_entered_on,
    Topic.due_on,
    Topic.due_provisional,
    Topic.urged_at,
    Topic.urge_note,
    Topic.urged_by,
    Topic.workflow_key,
    Topic.workflow_version,
)


_SELECT_TOPIC = f"SELECT {', '.join(c._meta.db_column_name for c in TOPIC_COLUMNS)} FROM topic"

FEW_MATCHES = 2000
"""At most this many search matches: sort them directly instead of walking an index."""
MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    """Ids are 32-bit serials; anything outside is simply not found."""
    return 1 <= value <= MAX_ID


def topic_read(row: dict[str, Any], principal: Principal) -> TopicRead:
    # The stage's time limit is the office's (Policy.sees_time_limits): a
    # representative gets none of it, not even whether it has passed.
    limits = sees_time_limits(principal, row)
    workflow = workflow_of(row)
    return TopicRead(
        id=row["id"],
        reference=row["reference"],
        title=row["title"],
        description=row["description"],
        category=row["category"],
        township_id=row["township"],
        village_id=row["village"],
        state=row["state"],
        state_label=workflow.state(row["state"]).label,
        version=row["version"],
        opened_by=row["opened_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        available_triggers=available_triggers(principal, row),
        due_on=row["due_on"] if limits else None,
        due_label=due_label(row["state"], row["due_on"], workflow) if limits else None,
        due_provisional=bool(row["due_provisional"]) and limits,
        overdue=limits and is_overdue(row["due_on"]),
        urged_at=row["urged_at"],
        urge_note=row["urge_note"] or None,
        workflow=TopicWorkflow(key=workflow.key, version=workflow.version, label=workflow.label),
    )


async def topic_row(topic_id: int) -> dict[str, Any]:
    """The topic row, whoever asks (404 when there is none); the caller asks the policy."""
    if not valid_id(topic_id):
        raise NotFound("议题不存在")
    # The hottest read of the API: plain SQL, skipping the query builder (~180 µs).
    row = await row_by_id(_SELECT_TOPIC, topic_id)
    if row is None:
        raise NotFound("议题不存在")
    return row


async def visible_topic(principal: Principal | None, topic_id: int) -> dict[str, Any]:
    """The topic row if the policy lets the caller read all of it (its township);
    404 otherwise, never 403: another township learns nothing of it here (its public
    version is served by ``overview.topic_overview``)."""
    row = await topic_row(topic_id)
    decision = allowed(principal, "topic.read", Subject.of_topic(row))
    if decision.view != "full":
        raise NotFound("议题不存在")
    return row


async def _next_reference(year: int) -> str:
    rows = await ReferenceCounter.raw(
        "INSERT INTO reference_counter (year, last_number) VALUES ({}, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_number = reference_counter.last_number + 1 "
        "RETURNING last_number",
        year,
    )
    return f"HSL-{year}-{rows[0]['last_number']:04d}"


_SAME: Any = object()


async def insert_topic(
    principal: Principal,
    workflow: Workflow,
    *,
    title: str,
    description: str,
    category: str = "",
    village_id: int | None,
    now: datetime | None = None,
    links: list[dict[str, Any]] | None = None,
    asked_village_id: int | None = _SAME,
) -> dict[str, Any]:
    """Insert a topic and its ``topic.opened`` event inside the caller's write
    transaction (the body of :func:`open_topic` without its own transaction, so a
    suggestion's screening opens the topic in its own: docs/decisions.md, "Suggestions
    and plans: the spine"). The village must be of the opener's township and the
    workflow offered there (422 otherwise). ``links`` (``chain.link`` of the
    suggestion) go in the opening's data, so the topic's chain names where it came
    from. The policy's ``topic.open`` is the caller's to ask first. Returns the
    opened topic's id, reference, title, township and workflow pin."""
    assert principal.township_id is not None
    now = now or utcnow()
    title = title.strip()
    description = description.strip()
    search_text, search_grams = search_fields(title, description)
    if village_id is not None:
        village = await Village.select(Village.township).where(Village.id == village_id).first()
        if village is None or village["township"] != principal.township_id:
            raise ValidationFailed([{"field": "village_id", "message": "本乡镇没有这个村（社区）"}])
    # Only a workflow its township (or village) offers (docs/workflows.md).
    await offerings.check_opening(
        principal, workflow, village_id if asked_village_id is _SAME else asked_village_id
    )
    reference = await _next_reference(now.year)
    today = china_today(now)
    due = await due_of(0, workflow.initial, today, workflow)
    inserted = await Topic.insert(
        Topic(
            reference=reference,
            title=title,
            description=description,
            category=category.strip(),
            township=principal.township_id,
            village=village_id,
            state=workflow.initial,
            version=1,
            opened_by=principal.id,
            created_at=now,
            updated_at=now,
            stage_entered_on=today,
            due_on=due.day if due else None,
            due_provisional=bool(due and due.provisional),
            search_text=search_text,
            search_grams=search_grams,
            title_grams=title_grams(title),
            event_seq=1,
            workflow_key=workflow.key,
            workflow_version=workflow.version,
        )
    )
    topic_id = inserted[0]["id"]
    await count_grams(principal.township_id, search_grams.split())
    opened = {
        "id": topic_id,
        "reference": reference,
        "title": title,
        "township": principal.township_id,
        "workflow_key": workflow.key,
        "workflow_version": workflow.version,
    }
    await changes.topic_opened(principal, opened, workflow, now, links=links)
    return opened


async def open_topic(
    principal: Principal, data: TopicCreate, *, now: datetime | None = None
) -> TopicRead:
    try:
        workflow = pin(data.workflow)
    except ValidationFailed:  # who may not open a topic hears that first
        allowed(principal, "topic.open", Subject.township(principal.township_id)).check()
        raise
    village_id = data.village_id
    if village_id is None and workflow.scope == "village":
        village_id = principal.village_id  # a village's workflow: the opener's village
    opened_in = replace(
        Subject.township(principal.township_id), workflow=workflow, village_id=village_id
    )
    allowed(principal, "topic.open", opened_in).check()
    # A village-scope workflow without a village is refused by offerings.check_opening,
    # inside the transaction below (docs/workflows.md, "Which workflows a township offers").
    now = now or utcnow()
    async with write_transaction():
        opened = await insert_topic(
            principal,
            workflow,
            title=data.title,
            description=data.description,
            category=data.category,
            village_id=village_id,
            asked_village_id=data.village_id,
            now=now,
        )
    topic_id = opened["id"]
    return topic_read(await visible_topic(principal, topic_id), principal)


async def get_topic(principal: Principal, topic_id: int) -> TopicRead:
    """The topic, with its opinions and ratings counted (``tallies``)."""
    answer = topic_read(await visible_topic(principal, topic_id), principal)
    answer.tallies = await topic_tallies(topic_id)
    return answer


def _search_conditions(q: str, engine_is_sqlite: bool) -> list[Any]:
    """Exact substring match, narrowed first by the bigram index on PostgreSQL."""
    needle = normalise(q)
    grams = bigrams(needle)
    conditions: list[Any] = []
    if grams and not engine_is_sqlite:
        conditions.append(WhereRaw("string_to_array(search_grams, ' ') @> {}::text[]", grams))
    function = "instr" if engine_is_sqlite else "strpos"
    conditions.append(WhereRaw(f"{function}(search_text, {{}}) > 0", needle))
    return conditions


async def list_topics(
    principal: Principal,
    *,
    state: str | None = None,
    village_id: int | None = None,
    q: str | None = None,
    limit: int = 20,
    offset: int = 0,
    township_id: int | None = None,
) -> TopicPage:
    """A township's topics, newest first: the person's own township, or for the county
    supervisor the one named by ``township_id``."""
    seen = scope(principal, "topic.list").check()
    township = township_id if township_id is not None else seen.township_id
    if township is None:  # the county names the township it reads
        raise ValidationFailed([{"field": "township_id", "message": "请指定要查看的乡镇"}])
    if not seen.covers(township):
        raise Forbidden("只能查看本乡镇的议题列表")
    if state is not None and state not in state_names():
        raise ValidationFailed([{"field": "state", "message": "没有这个状态"}])
    engine_is_sqlite = is_sqlite(Topic._meta.db)
    conditions: list[Any] = await topic_conditions(seen, township)
    if state is not None:
        conditions.append(Topic.state == state)
    if village_id is not None:
        conditions.append(Topic.village == village_id)
    if q:
        conditions += _search_conditions(q, engine_is_sqlite)
    rows_query = Topic.select(*TOPIC_COLUMNS).where(*conditions)
    count_query = Topic.count().where(*conditions)
    total: int | None = None
    rows: list[dict[str, Any]] | None = None
    if q:
        if state is None and village_id is None:
            total = await gram_total(township, normalise(q))
        if total is None:
            total = await count_query
        if not engine_is_sqlite and total <= FEW_MATCHES:
            # PostgreSQL misjudges how selective the bigram condition is and walks
            # the created_at index backwards through the whole township looking for
            # a rare word (measured: 430 ms at 1 M topics). With few matches, collect
            # them first through the GIN index, then sort.
            rows = await Topic.raw(
                "WITH matches AS MATERIALIZED ({}) SELECT * FROM matches "
                "ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
                rows_query.querystrings[0],
                limit,
                offset,
            )
    if rows is None:
        rows = (
            await rows_query.order_by(Topic.created_at, ascending=False)
            .order_by(Topic.id, ascending=False)
            .limit(limit)
            .offset(offset)
        )
    if total is None:
        total = await count_query
    return TopicPage(
        items=[topic_read(r, principal) for r in rows], total=total, limit=limit, offset=offset
    )


async def _pinned_elsewhere(topic_id: int) -> bool:
    """Whether the topic is pinned to a workflow version that is not loaded: then any
    trigger is refused on the locked row (409 ``workflow_not_loaded``), not as unknown."""
    row = (
        await Topic.select(Topic.workflow_key, Topic.workflow_version)
        .where(Topic.id == topic_id)
        .first()
    )
    return row is not None and bool(workflow_of(row).unavailable)


async def fire_trigger(
    principal: Principal,
    topic_id: int,
    trigger: str,
    version: int,
    comment: str = "",
) -> TopicRead:
    """Fire ``trigger`` on the topic in one transaction, or change nothing.

    Order of checks: known trigger (422), visible (404), role (403), version
    (409 ``stale_version``: whoever got there first changed the topic), trigger
    from this state (409), requirements (422); then compare-and-set on
    (id, version) and the event appended to the chain.
    """
    # Known to some loaded workflow (the topic's own version decides the rest, on the
    # locked row: a trigger its version lacks is a 409 there).
    known = list(dict.fromkeys(t for w in loaded().workflows.values() for t in w.triggers))
    if trigger not in known and not await _pinned_elsewhere(topic_id):
        raise ValidationFailed(
            [{"field": "trigger", "message": f"没有这个操作，可用的操作：{'、'.join(known)}"}]
        )
    comment = comment.strip()
    # The topic is locked and the policy decides on the locked row: 404, 403, then
    # 409 stale_version (whoever got there first changed the topic), then 409 when
    # the trigger does not leave the current state.
    async with changes.topic_change(
        principal, topic_id, "topic.fire", trigger, version=version
    ) as change:
        topic = change.topic
        dest = await decide(topic, trigger, comment)  # the machine, gated on requirements
        now = utcnow()
        today = china_today(now)
        due = await due_of(topic_id, dest, today, workflow_of(topic))
        updated = await Topic.raw(
            "UPDATE topic SET state = {}, version = version + 1, updated_at = {}, "
            "stage_entered_on = {}, due_on = {}, due_provisional = {}, "
            "event_seq = event_seq + 1, urged_at = NULL, urge_note = '', urged_by = NULL "
            "WHERE id = {} AND version = {} RETURNING id, event_seq",
            dest,
            now,
            today,
            due.day if due else None,
            bool(due and due.provisional),
            topic_id,
            version,
        )
        if not updated:
            raise StaleVersion("议题已被他人更新，请刷新后重试")
        await change.appended(
            "transition",
            comment=comment,
            trigger=trigger,
            from_state=topic["state"],
            to_state=dest,
            seq=int(updated[0]["event_seq"]),
            now=now,
        )
    return topic_read(await visible_topic(principal, topic_id), principal)


def _event_read(e: SeenEvent) -> EventRead:
    return EventRead(
        seq=e.seq,
        kind=e.kind,
        view=e.view,
        data=e.data,
        trigger=e.trigger,
        from_state=e.from_state,
        to_state=e.to_state,
        actor_id=e.actor_id,
        comment=e.comment,
        created_at=e.created_at,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


async def list_events(principal: Principal, topic_id: int) -> list[EventRead]:
    """The topic's chain, oldest first (its township and the county), each event as
    far as the caller may see its record (``deliberation.history``)."""
    topic = await visible_topic(principal, topic_id)
    return [_event_read(e) for e in await topic_history(principal, topic)]


async def page_events(principal: Principal, topic_id: int, window: Window) -> Page[EventRead]:
    """A page of ``list_events``, by seq (docs/decisions.md, "Paged lists")."""
    topic = await visible_topic(principal, topic_id)
    page = await history_page(principal, topic, window)
    return page.map(lambda events: [_event_read(e) for e in events])


async def overdue_topics(principal: Principal, *, limit: int = 20, offset: int = 0) -> TopicPage:
    """The township's topics past their stage's due date, the longest overdue first."""
    allowed(principal, "overdue.read", Subject.township(principal.township_id)).check()
    conditions = [Topic.due_on < china_today(), Topic.state.not_in(list(terminal_states()))]
    if principal.township_id is not None:  # the county supervisor sees every township's
        conditions.append(Topic.township == principal.township_id)
    rows = (
        await Topic.select(*TOPIC_COLUMNS)
        .where(*conditions)
        .order_by(Topic.due_on)
        .order_by(Topic.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Topic.count().where(*conditions)
    return TopicPage(
        items=[topic_read(r, principal) for r in rows], total=total, limit=limit, offset=offset
    )
