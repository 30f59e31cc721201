"""A county's year of consultation work written straight into the tables, for the
benchmarks of issue 15 (statistics, open data): townships with villages and liaisons,
topics in every state opened through the year, each with its chain of moves
(``topic.opened`` and transitions on working days, some stages late), opinions with
answers, investigations, site consultations, meetings with their rolls, resolution items
with progress, ratings. The chain rows carry placeholder hashes: these benchmarks read
figures, they do not verify chains (``bench/archive.py`` uses real topics).

Ids are chosen here (the database is fresh) and PostgreSQL's sequences are moved past
them afterwards, so rows can refer to each other without reading anything back.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chinese_calendar import is_workday

from deliberation.clock import CHINA
from workflows import WORKFLOW

PATH = WORKFLOW.main_path
ADOPTIONS = ("adopted", "partly_adopted", "not_adopted", None)
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
SURNAMES = "王李张刘陈杨赵黄周吴"
TRIGGERS = {(source, t.dest): t.trigger for t in WORKFLOW.transitions for source in t.sources}


class Year:
    """Rows by table, in insertion order, and the next id of each table."""

    def __init__(self, first_ids: dict[str, int]) -> None:
        self.next = defaultdict(lambda: 1, first_ids)
        self.tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}

    def add(self, table: str, **row: Any) -> int:
        row_id = self.next[table]
        self.next[table] += 1
        _, rows = self.tables.setdefault(table, (["id", *row], []))
        rows.append((row_id, *row.values()))
        return row_id


def moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHINA).astimezone(UTC)


def after(day: date, working_days: int) -> date:
    while working_days:
        day += timedelta(days=1)
        working_days -= is_workday(day)
    return day


def generate(
    year: int,
    townships: int,
    per_township: int,
    first_ids: dict[str, int],
    opener: int,
    states: tuple[str, ...] = WORKFLOW.state_names,
) -> Year:
    """``townships`` new townships of ``per_township`` topics each, opened in ``year``,
    each in one of ``states``; those from ``resolution`` on with their published
    resolution notice (a placeholder PDF: the benchmarks read metadata)."""
    rng = random.Random(15)
    y = Year(first_ids)
    limits = {s.name: s.time_limit.working_days for s in WORKFLOW.states if s.time_limit}
    stamp = moment(date(year, 1, 1))
    n = 0
    for t in range(townships):
        township = y.add("township", name=f"统计压测镇{t + 1:03d}", created_at=stamp)
        villages = [
            y.add("village", name=f"{v}村", township=township, created_at=stamp)
            for v in ("东山", "西河", "南岭")
        ]
        liaisons = [
            y.add(
                "account",
                username=f"sy{t + 1:03d}l{k}",
                password_hash="!",
                display_name=f"{SURNAMES[(t + k) % 10]}联络{k}",
                role="liaison",
                township=township,
                village=None,
                active=True,
                must_change_password=False,
                created_at=stamp,
                phone="",
            )
            for k in range(3)
        ]
        representatives = [
            y.add(
                "account",
                username=f"sy{t + 1:03d}r{k}",
                password_hash="!",
                display_name=f"代表{k}",
                role="representative",
                township=township,
                village=villages[k],
                active=True,
                must_change_password=False,
                created_at=stamp,
                phone="",
            )
            for k in range(3)
        ]
        for _ in range(per_township):
            n += 1
            opened = date(year, 1, 2) + timedelta(days=rng.randrange(340))
            final = rng.choice(states)
            route = (
                [final] if final in ("rejected", "withdrawn") else PATH[1 : PATH.index(final) + 1]
            )
            liaison = rng.choice(liaisons)
            topic = y.next["topic"]
            day = opened
            moves = [("topic.opened", None, "proposed", day)]
            meeting_day: date | None = None
            for dest in route:
                source = moves[-1][2]
                late = rng.random() < 0.2
                limit = limits.get(source) or 10
                day = after(
                    day, rng.randint(limit + 1, limit + 8) if late else rng.randint(1, limit)
                )
                if dest == "meeting":
                    meeting_day = day - timedelta(days=1)
                moves.append(("transition", source, dest, day))
            state = moves[-1][2]
            y.add(
                "topic",
                reference=f"HSL-S-{n:07d}",
                title=f"统计压测议题{n}",
                description="压测",
                category="",
                township=township,
                village=rng.choice([None, *villages]),
                state=state,
                version=len(moves),
                opened_by=liaison,
                created_at=moment(opened),
                updated_at=moment(day),
                stage_entered_on=day,
                due_on=None,
                due_provisional=False,
                search_text="",
                search_grams="",
                event_seq=len(moves),
                urged_at=None,
                urge_note="",
                urged_by=None,
            )
            for seq, (kind, source, dest, when) in enumerate(moves, 1):
                y.add(
                    "topic_event",
                    topic=topic,
                    seq=seq,
                    kind=kind,
                    data="{}",
                    trigger="open" if kind == "topic.opened" else TRIGGERS[source, dest],
                    from_state=source,
                    to_state=dest,
                    actor=liaison,
                    comment="",
                    created_at=moment(when),
                    prev_hash="0" * 64,
                    hash="0" * 64,
                )
            reached = {m[2] for m in moves}
            for k in range(2):
                adoption = rng.choice(ADOPTIONS)
                y.add(
                    "opinion",
                    topic=topic,
                    author=representatives[k],
                    content="建议尽快办理",
                    stance="suggestion",
                    on_behalf_of=f"{SURNAMES[k]}某某",
                    adoption=adoption,
                    answer_reason="经研究" if adoption else "",
                    answered_by=opener if adoption else None,
                    answered_at=moment(opened) if adoption else None,
                    revision=1,
                    created_at=moment(opened),
                )
            if "investigated" in reached:
                y.add(
                    "investigation",
                    topic=topic,
                    visited_on=opened,
                    place="三组",
                    participants="群众",
                    findings="属实",
                    recorded_by=liaison,
                    revision=1,
                    created_at=moment(opened),
                )
            if "site_consultation" in reached:
                y.add(
                    "site_consultation",
                    topic=topic,
                    held_on=opened,
                    place="村委会",
                    participants="村两委",
                    summary="初步意见",
                    recorded_by=rng.choice(liaisons),
                    revision=1,
                    created_at=moment(opened),
                )
            if meeting_day is not None:
                meeting = y.add(
                    "meeting",
                    topic=topic,
                    scheduled_at=moment(meeting_day, 9),
                    place="镇会议室",
                    host="陈主任",
                    minutes_summary="协商一致",
                    minutes_decisions="按期办理",
                    minutes_recorded_at=moment(meeting_day, 17),
                    minutes_recorded_by=opener,
                    created_by=opener,
                    revision=1,
                    created_at=moment(meeting_day, 8),
                )
                for position, person in enumerate(rng.sample(liaisons, 2)):
                    y.add(
                        "meeting_attendee",
                        meeting=meeting,
                        position=position,
                        name=f"{SURNAMES[(t + liaisons.index(person)) % 10]}联络{liaisons.index(person)}",
                        unit="政协联络组",
                        attendance="present",
                    )
            if "feedback" in reached:
                set_on = next(m[3] for m in moves if m[2] == "feedback")
                for _ in range(rng.randint(1, 3)):
                    due = set_on + timedelta(days=30)
                    done = state == "closed" or rng.random() < 0.5
                    item = y.add(
                        "resolution_item",
                        topic=topic,
                        content="硬化道路",
                        responsible_unit="镇村建办",
                        due_date=due,
                        completed=done,
                        created_by=opener,
                        revision=1,
                        created_at=moment(set_on),
                    )
                    finished = set_on + timedelta(days=rng.randint(5, 45))
                    y.add(
                        "progress_report",
                        item=item,
                        note="已完工" if done else "进行中",
                        percent=100 if done else 50,
                        completed=done,
                        reported_by=opener,
                        created_at=moment(finished if done else set_on),
                    )
            if WORKFLOW.public_from in reached:
                published = next(m[3] for m in moves if m[2] == WORKFLOW.public_from)
                y.add(
                    "document",
                    topic=topic,
                    township=township,
                    kind="resolution_notice",
                    title=f"关于“统计压测议题{n}”协商成果的公示",
                    status="published",
                    number_year=year,
                    number=n,
                    content="{}",
                    search_text="",
                    pdf=b"%PDF-1.7 placeholder",
                    sha256="0" * 64,
                    size_bytes=20,
                    created_by=opener,
                    created_at=moment(published),
                    published_at=moment(published, 11),
                    published_by=opener,
                    posting_starts_on=published,
                    posting_ends_on=after(published, 5),
                    posting_provisional=False,
                    superseded_by=None,
                    superseded_at=None,
                    revoked_at=None,
                    revoked_by=None,
                    revoke_reason="",
                    chain_seq=None,
                    chain_hash=None,
                )
            if state == "closed":
                for representative in rng.sample(representatives, rng.randint(1, 3)):
                    y.add(
                        "satisfaction_rating",
                        topic=topic,
                        representative=representative,
                        rating=rng.choice(RATINGS),
                        comment="",
                        revision=1,
                        created_at=moment(day),
                        updated_at=moment(day),
                    )
    return y


def value(v: Any) -> Any:
    """A Python value as Piccolo stores it in SQLite (ISO text for dates and times)."""
    return v.isoformat() if isinstance(v, (datetime, date)) else v


def write(
    engine: str,
    url: str,
    year: int,
    townships: int,
    per_township: int,
    states: tuple[str, ...] = WORKFLOW.state_names,
) -> int:
    """Write the year into the fresh database at ``url``; the number of topics."""
    if engine == "sqlite":
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///") :])
        first = {
            t: db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone()[0] for t in TABLES
        }
        opener = db.execute("SELECT min(id) FROM account").fetchone()[0]
        y = generate(year, townships, per_township, first, opener, states)
        for table, (columns, rows) in y.tables.items():
            db.executemany(
                f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
                [tuple(value(v) for v in r) for r in rows],
            )
        db.commit()
        db.execute("ANALYZE")
        db.close()
        return len(y.tables["topic"][1])

    import asyncpg

    async def run() -> int:
        conn = await asyncpg.connect(url)
        first = {
            t: await conn.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {t}") for t in TABLES
        }
        opener = await conn.fetchval("SELECT min(id) FROM account")
        y = generate(year, townships, per_township, first, opener, states)
        for table, (columns, rows) in y.tables.items():
            await conn.copy_records_to_table(table, records=rows, columns=columns)
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
        await conn.close()
        return len(y.tables["topic"][1])

    return asyncio.run(run())


TABLES = (
    "township",
    "village",
    "account",
    "topic",
    "topic_event",
    "opinion",
    "investigation",
    "site_consultation",
    "meeting",
    "meeting_attendee",
    "resolution_item",
    "progress_report",
    "satisfaction_rating",
    "document",
)
