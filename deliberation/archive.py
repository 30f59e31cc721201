"""一事一档: a finished topic filed as one self-contained BagIt bag (RFC 8493), issue 15
item 4.

The bag holds, under ``data/``: every published version of its documents as PDF (those
superseded and revoked too, marked so in ``documents.json`` and in their file names;
a document drafted and never published is not filed at all, and its events keep only
their place in ``events.json``: bag-info.txt says so on its ``Unpublished-Drafts`` line),
the whole record as JSON (``record.json``: the topic and each record's content exactly
as the chain vouches for it), the chain itself (``events.json``) and the result of
checking it with the audit key (``chain-check.json``), and the workflow the topic was
pinned to, as loaded (``workflow.json``: the declaration of that key and version, so the
state and step names in the other files can be read without the system; bag-info.txt
names it on its ``Workflow`` line). ``manifest-sha512.txt`` and
``tagmanifest-sha512.txt`` (and their SHA-256 twins) let anyone check that nothing
changed since; ``bag-info.txt`` carries the archive code (档号, DA/T 22-2015:
全宗号-WS·年度-保管期限-件号), the payload's size and the organisation, which an
archivist's software reads.

The item number (件号) is given the first time a topic is filed, per year the topic
ended (China time), without gaps, and never changes: the same topic gets the same code
in every later bag.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from deliberation import chain
from deliberation.audit import (
    check_chain,
    check_records,
    missing_records,
    stored_pdf_digests,
    vouched_records,
)
from deliberation.clock import CHINA, china_date, utcnow
from deliberation.database import bound_engine, is_sqlite, write_transaction
from deliberation.documents.content import document_number
from deliberation.documents.service import STATUS_LABELS
from deliberation.errors import NotFound
from deliberation.permissions import Subject, allowed
from deliberation.pinning import loaded, terminal_states, workflow_of
from deliberation.record_content import contents_of_topics, revisions_of_topics
from deliberation.security import Principal
from deliberation.tables import (
    ArchiveCounter,
    ArchiveItem,
    Document,
    RecordRevision,
    Topic,
    TopicEvent,
)
from deliberation.topics import topic_row, valid_id
from deliberation.workflow_catalog import declaration

RETENTION_PERIODS = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
"""保管期限 codes (DA/T 22-2015) and their names."""
CATEGORY = "WS"
"""档案门类代码: 文书 (administrative records)."""


@dataclass(frozen=True)
class ArchiveConfig:
    fonds: str = "0001"
    """全宗号, given to the office by the county archives."""
    retention: str = "D30"
    organization: str = ""
    """立档单位; empty: the topic's township."""


@dataclass(frozen=True)
class Bag:
    name: str
    """The bag's folder inside the ZIP, and the ZIP's name without ``.zip``."""
    archive_code: str
    content: bytes


def archive_code(config: ArchiveConfig, year: int, number: int) -> str:
    """档号 per DA/T 22-2015: 全宗号-门类代码·年度-保管期限-件号."""
    return f"{config.fonds}-{CATEGORY}·{year}-{config.retention}-{number:04d}"


async def topic_bag(principal: Principal, topic_id: int, config: ArchiveConfig) -> Bag:
    """The bag of one finished topic (its township's staff, the county)."""
    if not valid_id(topic_id):
        raise NotFound("议题不存在")
    topic = await topic_row(topic_id)
    allowed(principal, "topic.archive", Subject.of_topic(topic)).check()
    return await make_bag(topic_id, config)


async def make_bag(topic_id: int, config: ArchiveConfig) -> Bag:
    """The bag, with no permission check (the command line, ``archive --all``). The rows
    are read on the event loop (:func:`bag_rows`); the bag is checked, written out and
    zipped in a worker thread (:data:`BAGGING`, a bound on how many at once): for a
    topic of 10 000 opinions that is seconds of CPU that would otherwise stall every
    other request (docs/decisions.md, "The archive bag: what people may read, off the
    event loop"; docs/benchmarks.md)."""
    rows = await bag_rows(topic_id)
    job = functools.partial(pack, rows, config)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(BAGGING, contextvars.copy_context().run, job)


async def bag_rows(topic_id: int) -> BagRows:
    """What the bag of the topic is made from, read from the database."""
    topic = dict(
        (
            await Topic.select(
                *Topic.all_columns(),
                Topic.township.name.as_alias("township_name"),
                Topic.village.name.as_alias("village_name"),
                Topic.opened_by.display_name.as_alias("opener_name"),
            ).where(Topic.id == topic_id)
        )[0]
    )
    events = await (
        TopicEvent.select(
            *TopicEvent.all_columns(), TopicEvent.actor.display_name.as_alias("actor_name")
        )
        .where(TopicEvent.topic == topic_id)
        .order_by(TopicEvent.seq)
    )
    ended = next(
        (china_date(e["created_at"]) for e in reversed(events) if e["to_state"] == topic["state"]),
        china_date(topic["updated_at"]),
    )
    year, number = await _item_number(topic_id, ended.year)
    workflow = workflow_of(topic)
    pinned = msgspec.to_builtins(declaration(loaded(), workflow.key, workflow.version))
    pinned.pop("versions", None)  # the versions loaded today, not the topic's own
    return BagRows(
        topic=topic,
        events=events,
        year=year,
        number=number,
        pinned=pinned,
        contents=await contents_of_topics([topic_id]),
        revisions=await revisions_of_topics([topic_id]),
        earlier_revisions=await RecordRevision.select(
            RecordRevision.record_kind,
            RecordRevision.record_id,
            RecordRevision.revision,
            RecordRevision.data,
            RecordRevision.reason,
            RecordRevision.created_by,
            RecordRevision.created_at,
        )
        .where(RecordRevision.topic == topic_id)
        .order_by(RecordRevision.id),
        pdf_digests=await stored_pdf_digests([topic_id]),
        documents=await Document.select(
            Document.id,
            Document.kind,
            Document.title,
            Document.status,
            Document.number_year,
            Document.number,
            Document.pdf,
            Document.sha256,
            Document.published_at,
            Document.superseded_by,
            Document.revoked_at,
            Document.revoke_reason,
        )
        .where(Document.topic == topic_id, Document.status.is_in(list(_FILED)))
        .order_by(Document.id),
        unpublished={
            r["id"]
            for r in await Document.select(Document.id).where(
                Document.topic == topic_id, Document.status.not_in(list(_FILED))
            )
        },
        key=chain.current_key(),
        now=utcnow(),
    )


BAGGING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="archive-bags")
"""Bags are checked, written and zipped here, two at a time at most: a third waits its
turn rather than taking the event loop or a third CPU-bound thread."""


@dataclass(frozen=True)
class BagRows:
    """What a bag is made from, read from the database on the event loop."""

    topic: dict[str, Any]
    events: list[dict[str, Any]]
    year: int
    number: int
    pinned: Any
    contents: dict[tuple[str, int], tuple[int, dict[str, Any]]]
    revisions: dict[tuple[str, int], list[dict[str, Any]]]
    earlier_revisions: list[dict[str, Any]]
    pdf_digests: dict[int, str]
    documents: list[dict[str, Any]]
    unpublished: set[int]
    """Documents drafted and never published: not in the bag (nor their events' words)."""
    key: bytes
    now: datetime


WITHHELD = "未发布的草稿，不入档"
"""What a withheld event of ``events.json`` says in place of its content."""


def filed_events(events: list[dict[str, Any]], unpublished: set[int]) -> list[dict[str, Any]]:
    """The chain as ``events.json`` holds it: each event as stored (``data`` the exact
    string hashed, times in UTC), but an event about a document never published keeps
    only its place (seq, prev_hash, hash: the links still check) and says it is
    withheld; an event vouching for one among others (``also``) leaves that one out and
    says it is abridged (its hash is over the whole)."""
    filed = []
    for e in events:
        data = json.loads(e["data"] or "{}")
        if data.get("record") == "document" and int(data.get("id", 0)) in unpublished:
            filed.append(
                {
                    "seq": e["seq"],
                    "prev_hash": e["prev_hash"],
                    "hash": e["hash"],
                    "withheld": WITHHELD,
                }
            )
            continue
        row = {k: e[k] for k in e if k not in ("id", "topic")}
        also = data.get("also", [])
        kept = [
            item
            for item in also
            if not (item.get("record") == "document" and int(item.get("id", 0)) in unpublished)
        ]
        if len(kept) != len(also):
            row["data"] = chain.canonical({**data, "also": kept})
            row["abridged"] = WITHHELD
        filed.append(row | {"created_at": e["created_at"].astimezone(UTC).isoformat()})
    return filed


def pack(rows: BagRows, config: ArchiveConfig) -> Bag:
    """The bag from its rows: checked, written out and zipped (no database, no event
    loop: :func:`make_bag` runs it in :data:`BAGGING`)."""
    topic, events, number, year = rows.topic, rows.events, rows.number, rows.year
    topic_id = topic["id"]
    code = archive_code(config, year, number)
    name = f"{topic['reference']}-{number:04d}"
    workflow = workflow_of(topic)
    payload: dict[str, bytes] = {}
    payload["data/workflow.json"] = _json(rows.pinned)
    records: dict[str, list[dict[str, Any]]] = {}
    for (record, record_id), (_, content) in sorted(rows.contents.items()):
        if record == "document" and record_id in rows.unpublished:
            continue  # a draft never published is no part of the record
        if record != "topic":  # the topic's own facts are under "topic" below
            records.setdefault(record, []).append({"id": record_id, **content})
    payload["data/record.json"] = _json(
        {
            "topic": {
                k: topic[k]
                for k in (
                    "id",
                    "reference",
                    "title",
                    "description",
                    "category",
                    "township_name",
                    "village_name",
                    "opener_name",
                    "state",
                    "created_at",
                    "updated_at",
                )
            }
            | {
                "state_label": workflow.state(topic["state"]).label,
                "workflow": {
                    "key": workflow.key,
                    "version": workflow.version,
                    "label": workflow.label,
                },
            },
            "records": records,
            "earlier_revisions": [
                {k: r[k] for k in r if k != "data"} | {"content": json.loads(r["data"] or "{}")}
                for r in rows.earlier_revisions
                if not (r["record_kind"] == "document" and r["record_id"] in rows.unpublished)
            ],
        }
    )
    # Each event as stored, so its hash can be checked again from this file: ``data``
    # the exact string hashed, times in UTC as the chain has them.
    filed = filed_events(events, rows.unpublished)
    payload["data/events.json"] = _json(filed)
    problem = check_chain(topic, events, rows.key)
    problems = [problem] if problem else []
    latest = vouched_records({topic_id: events})
    found, seen = check_records(
        {topic_id: topic}, latest, rows.contents, rows.revisions, rows.pdf_digests, rows.key
    )
    problems += found + missing_records({topic_id: topic}, latest, seen)
    payload["data/chain-check.json"] = _json(
        {
            "checked_at": rows.now,
            "key_fingerprint": chain.fingerprint(rows.key),
            "events": len(events),
            "head": {"seq": events[-1]["seq"], "hash": events[-1]["hash"]} if events else None,
            "intact": not problems,
            "problems": [p.describe() for p in problems],
        }
    )
    documents = []
    for document in rows.documents:
        file = f"documents/{document['id']:06d}-{document['kind']}-{document['status']}.pdf"
        payload[f"data/{file}"] = bytes(document["pdf"])
        document_no = (
            document_number(topic["township_name"], document["number_year"], document["number"])
            if document["number"] is not None
            else None
        )
        documents.append(
            {k: document[k] for k in document if k != "pdf"}
            | {
                "file": file,
                "number": document_no,
                "status_label": STATUS_LABELS[document["status"]],
            }
        )
    payload["data/documents.json"] = _json(documents)
    organization = config.organization or topic["township_name"]
    withheld = sum(1 for e in filed if "withheld" in e or "abridged" in e)
    info = {
        "Source-Organization": organization,
        "Bagging-Date": rows.now.astimezone(CHINA).date().isoformat(),
        "External-Identifier": code,
        "External-Description": f"协商议事议题“{topic['title']}”的全部记录（一事一档）",
        "Payload-Oxum": f"{sum(len(b) for b in payload.values())}.{len(payload)}",
        "Bag-Size": bag_size(sum(len(b) for b in payload.values())),
        "Archive-Code": code,
        "Fonds": config.fonds,
        "Archive-Year": str(year),
        "Retention-Period": f"{config.retention} {RETENTION_PERIODS[config.retention]}",
        "Item-Number": f"{number:04d}",
        "Topic-Reference": topic["reference"],
        "Topic-State": workflow.state(topic["state"]).label,
        "Workflow": f"{workflow.key} v{workflow.version} {workflow.label}",
        "Chain-Intact": "true" if not problems else "false",
        "Unpublished-Drafts": "not filed（未发布的草稿不入档：文件、记录和事件内容均不收入）",
        "Withheld-Events": str(withheld),
    }
    info = {k: " ".join(str(v).split()) for k, v in info.items()}  # one line each
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": "".join(f"{k}: {v}\n" for k, v in info.items()).encode(),
        **{f"manifest-{a}.txt": _manifest(payload, a) for a in ALGORITHMS},
    }
    tags |= {f"tagmanifest-{a}.txt": _manifest(tags, a) for a in ALGORITHMS}
    out = io.BytesIO()
    stamp = rows.now.astimezone(CHINA).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, body in [*tags.items(), *payload.items()]:
            item = zipfile.ZipInfo(f"{name}/{path}", date_time=stamp)
            item.compress_type = zipfile.ZIP_DEFLATED
            item.external_attr = ENTRY_MODE << 16
            archive.writestr(item, body)
    return Bag(name=name, archive_code=code, content=out.getvalue())


_FILED = ("published", "superseded", "revoked")
"""Documents that were published (drafts never were)."""


async def _item_number(topic_id: int, year: int) -> tuple[int, int]:
    """The topic's (year, item number): given once, in the year it ended, without gaps."""
    existing = await ArchiveItem.select(ArchiveItem.year, ArchiveItem.number).where(
        ArchiveItem.id == topic_id
    )
    if existing:
        return existing[0]["year"], existing[0]["number"]
    async with write_transaction():
        await ArchiveCounter.raw(
            "INSERT INTO archive_counter (id, last_number) VALUES ({}, 0) "
            "ON CONFLICT (id) DO NOTHING",
            year,
        )
        # The year's row is locked (PostgreSQL; SQLite's write transaction is exclusive)
        # before looking again: two first bags of one topic get one number.
        lock = "" if is_sqlite(bound_engine()) else " FOR UPDATE"
        [counter] = await ArchiveCounter.raw(
            "SELECT last_number FROM archive_counter WHERE id = {}" + lock, year
        )
        existing = await ArchiveItem.select(ArchiveItem.year, ArchiveItem.number).where(
            ArchiveItem.id == topic_id
        )
        if existing:
            return existing[0]["year"], existing[0]["number"]
        number = counter["last_number"] + 1
        await ArchiveCounter.update({ArchiveCounter.last_number: number}).where(
            ArchiveCounter.id == year
        )
        await ArchiveItem.raw(
            "INSERT INTO archive_item (id, year, number, archived_at) VALUES ({}, {}, {}, {})",
            topic_id,
            year,
            number,
            utcnow(),
        )
    return year, number


async def finished_topics(year: int) -> list[int]:
    """Ids of the topics that ended in ``year`` (China time), in the order they ended:
    ``archive --all``. Ended by their own workflow's declaration: a topic pinned to a
    version that is not loaded is never among them (docs/decisions.md, "A workflow
    removed from the folder")."""
    terminal = list(terminal_states())
    # A terminal state is never left: the move into it is the topic's last.
    ends = await (
        TopicEvent.select(
            TopicEvent.topic,
            TopicEvent.to_state,
            TopicEvent.topic.state.as_alias("state"),
            TopicEvent.topic.workflow_key.as_alias("workflow_key"),
            TopicEvent.topic.workflow_version.as_alias("workflow_version"),
            TopicEvent.created_at,
        )
        .where(TopicEvent.kind == "transition", TopicEvent.to_state.is_in(terminal))
        .order_by(TopicEvent.created_at)
    )
    return [
        e["topic"]
        for e in ends
        if e["to_state"] == e["state"]
        and china_date(e["created_at"]).year == year
        and workflow_of(e).state(e["state"]).terminal
    ]  # item numbers in the order they ended


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, default=_plain).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(CHINA).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return None
    raise TypeError(type(value).__name__)


ALGORITHMS = ("sha512", "sha256")
"""SHA-512 first (RFC 8493 §2.4: what a bag should carry); SHA-256 kept beside it for the
tools and notes that read it before."""
ENTRY_MODE = 0o100644
"""Each file in the ZIP: a regular file anyone may read (``zipfile``'s own is 0600)."""


def bag_size(octets: int) -> str:
    """``Bag-Size`` (RFC 8493 §2.2.2): the payload's size for people, e.g. ``1.3 MB``."""
    if octets < 1000:
        return f"{octets} bytes"
    size = octets / 1000
    for unit in ("KB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _manifest(files: dict[str, bytes], algorithm: str) -> bytes:
    return "".join(
        f"{hashlib.new(algorithm, body).hexdigest()}  {path}\n"
        for path, body in sorted(files.items())
    ).encode()
