"""The fast path (``deliberation/fast_path.py``) never changes an answer: each shortcut
against plain Piccolo, PyJWT and Litestar's logging on the same data, on the engine the
suite runs on (SQLite, or PostgreSQL when ``DELIBERATION_TEST_DATABASE_URL`` is set).

The suite itself runs with the fast path on; these tests are why it need not run again
with it off (``docs/decisions.md``, "The fast path"). Through whole apps, with and
without it: ``tests/api/test_fast_path_twins.py``.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import contextvars
import importlib
import io
import logging
import random
import re
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.table import Table

from api.logs import flush_logs, logging_config
from api.settings import Settings
from deliberation import fast_path
from deliberation.clock import timestamp
from deliberation.database import (
    PooledPostgresEngine,
    bind_engine,
    bound_engine,
    close_engine,
    engine_for_url,
    open_engine,
    row_by_id,
    write_transaction,
)
from deliberation.errors import Unauthenticated
from deliberation.fast_path import READER_APPLICATION_NAME, TokenCache
from deliberation.security import Principal, TokenIssuer
from deliberation.tables import TABLES, AuthSession, Topic
from deliberation.topics import _SELECT_TOPIC
from tests.world import World

ROOT = Path(__file__).resolve().parents[2]

# Keyed reads ---------------------------------------------------------------------------


def keyed_selects() -> dict[str, str]:
    """Every SELECT the code hands to ``row_by_id`` (the fast path's keyed reads), by
    where it is named: found in the source, so a new keyed read is compared here too."""
    found: dict[str, str] = {}
    for path in sorted([*ROOT.glob("deliberation/**/*.py"), *ROOT.glob("api/**/*.py")]):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module == "deliberation.database":
            continue  # row_by_id itself
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name != "row_by_id":
                continue
            argument = node.args[0]
            assert isinstance(argument, ast.Name), (
                f"{module}:{node.lineno}: name the SELECT given to row_by_id as a module "
                "constant, so this test can read it"
            )
            found[f"{module}.{argument.id}"] = getattr(importlib.import_module(module), argument.id)
    return found


KEYED_SELECTS = keyed_selects()
SELECT_SHAPE = re.compile(r"SELECT (?P<columns>[a-z_, ]+) FROM (?P<table>[a-z_]+)")


def piccolo_read(select: str) -> Callable[[int], Any]:
    """The same read through Piccolo's query builder: ``Table.select(...).where(id)``."""
    shape = SELECT_SHAPE.fullmatch(select)
    assert shape is not None, f"not a plain SELECT of columns from one table: {select!r}"
    table: type[Table] = next(t for t in TABLES if t._meta.tablename == shape["table"])
    columns = [table._meta.get_column_by_name(name.strip()) for name in shape["columns"].split(",")]
    assert "id" in [c._meta.name for c in columns], "the coalesced reader needs the id"

    async def read(row_id: int) -> Any:
        return await table.select(*columns).where(table._meta.primary_key == row_id).first()

    return read


def typed(row: dict[str, Any] | None) -> dict[str, tuple[str, str]] | None:
    """A row with each value's type and exact form (a datetime's zone, a bool that is
    not 1, a NULL that is not an empty string)."""
    if row is None:
        return None
    return {key: (type(value).__qualname__, repr(value)) for key, value in row.items()}


@contextlib.contextmanager
def bound(engine: Engine[Any]) -> Iterator[Engine[Any]]:
    """``engine`` bound to every table for the block; the suite's own engine again after."""
    previous = bound_engine()
    bind_engine(engine)
    try:
        yield engine
    finally:
        bind_engine(previous)


@dataclass
class Engines:
    fast: Engine[Any]
    plain: Engine[Any]


@pytest.fixture(scope="module")
async def engines(migrated: str) -> AsyncIterator[Engines]:
    """The test database through an engine with the fast path and one without."""
    pair = Engines(engine_for_url(migrated, fast_path=True), engine_for_url(migrated, False))
    for engine in (pair.fast, pair.plain):
        await open_engine(engine, pool_size=4)
    try:
        yield pair
    finally:
        for engine in (pair.fast, pair.plain):
            await close_engine(engine)


TEXTS = (
    "村道硬化",
    "",
    "🚧 路灯坏了 😀",
    'O\'Brien "引号" \\ 反斜杠 %_ ;-- DROP',
    "e\u0301 组合字符 ﬁ",
    "制表\t换行\n回车\r结束 ",
    "ＡＢＣ全角１２３",
    "𠀀𪚥 扩展B区",
    "长" * 200,
)
DATES = (None, date(2000, 2, 29), date(2099, 12, 31), date(1970, 1, 1))
MOMENTS = (
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 6, 30, 8, 0, 0, 1, tzinfo=timezone(timedelta(hours=8))),
)
MANY = 240
"""Topic rows written straight into the table, more than any batch of reads below."""


@dataclass
class Varied:
    topics: list[int]
    sessions: list[int]


@pytest.fixture(scope="module")
async def varied(world: World) -> AsyncIterator[Varied]:
    """Topic and session rows with every kind of value the keyed reads return: non-ASCII
    and empty text, NULLs, extreme dates, microseconds, the largest integer; removed
    again after this module (they have no chain events)."""
    t = world.a
    accounts = sorted(actor.user["id"] for actor in t.actors.values())
    villages = [None, t.villages[0]["id"], t.villages[1]["id"]]
    run = f"{random.randrange(16**6):06x}"
    topics = [
        Topic(
            reference=f"FP{run}-{i:04d}",
            title=TEXTS[i % len(TEXTS)],
            description=TEXTS[(i + 3) % len(TEXTS)] * (1 + i % 50),
            category=TEXTS[(i + 1) % len(TEXTS)][:50],
            township=t.id,
            village=villages[i % len(villages)],
            state=("proposed", "investigated", "resolution", "closed")[i % 4],
            version=(1, 2, 2**31 - 1)[i % 3],
            opened_by=accounts[i % len(accounts)],
            created_at=MOMENTS[i % len(MOMENTS)],
            updated_at=MOMENTS[(i + 1) % len(MOMENTS)],
            stage_entered_on=DATES[i % len(DATES)],
            due_on=DATES[(i + 1) % len(DATES)],
            due_provisional=i % 2 == 0,
            search_text="",
            search_grams="",
            event_seq=i,
            urged_at=None if i % 3 else MOMENTS[i % len(MOMENTS)],
            urge_note="" if i % 3 else TEXTS[(i + 2) % len(TEXTS)],
            urged_by=None if i % 3 else accounts[0],
        )
        for i in range(MANY)
    ]
    sessions = [
        AuthSession(
            account=accounts[i % len(accounts)],
            kind=("api", "page")[i % 2],
            client=TEXTS[i % len(TEXTS)][:64],
            created_at=MOMENTS[i % len(MOMENTS)],
            last_seen_at=MOMENTS[(i + 2) % len(MOMENTS)],
            ended_at=None if i % 2 else MOMENTS[i % len(MOMENTS)],
            ended_reason="" if i % 2 else "logout",
            must_change_password=i % 3 == 0,
            csrf_digest="" if i % 4 else "f" * 64,
        )
        for i in range(24)
    ]
    made = Varied(
        [row["id"] for row in await Topic.insert(*topics).returning(Topic.id)],
        [row["id"] for row in await AuthSession.insert(*sessions).returning(AuthSession.id)],
    )
    try:
        yield made
    finally:
        await Topic.delete().where(Topic.id.is_in(made.topics))
        await AuthSession.delete().where(AuthSession.id.is_in(made.sessions))


def test_every_keyed_read_is_found() -> None:
    """The three keyed reads today; a new one is compared by the next test on its own."""
    assert set(KEYED_SELECTS) >= {
        "deliberation.sessions.SESSION_SELECT",
        "deliberation.topics._SELECT_TOPIC",
        "deliberation.documents.board.VERSION_SELECT",
    }


@pytest.mark.parametrize("name", sorted(KEYED_SELECTS))
async def test_keyed_read_equals_plain_piccolo(name: str, engines: Engines, varied: Varied) -> None:
    """Every row of the table, one by one and all at once (one coalesced batch on
    PostgreSQL, ids repeated), and ids that have no row: the fast path's answer is the
    plain engine's and Piccolo's query builder's, field for field, types too."""
    select = KEYED_SELECTS[name]
    read_with_piccolo = piccolo_read(select)
    table = SELECT_SHAPE.fullmatch(select)["table"]  # type: ignore[index]
    rows = await engines.plain.run_querystring(QueryString(f"SELECT id FROM {table}"))
    ids = sorted(row["id"] for row in rows)
    assert ids, f"no {table} rows to compare"
    ids += [max(ids) + 1, 2**31 - 1, 0, -1]

    with bound(engines.plain):
        expected = {i: typed(await row_by_id(select, i)) for i in ids}
        built = {i: typed(await read_with_piccolo(i)) for i in ids}
    assert expected == built
    with bound(engines.fast):
        one_by_one = {i: typed(await row_by_id(select, i)) for i in ids}
        asked = ids + ids[::3]
        together = await asyncio.gather(*(row_by_id(select, i) for i in asked))
    assert one_by_one == expected
    for i, row in zip(asked, together, strict=True):
        assert typed(row) == expected[i], i


async def test_a_read_inside_a_transaction_sees_its_writes(
    engines: Engines, varied: Varied
) -> None:
    """Inside a transaction a keyed read is the transaction's (its own uncommitted
    write), outside it the last commit: the same with the fast path as without."""
    topic_id = varied.topics[0]
    for engine in (engines.fast, engines.plain):
        with bound(engine):
            before = await row_by_id(_SELECT_TOPIC, topic_id)
            assert before is not None
            async with write_transaction():
                await Topic.update({Topic.title: "事务中的标题"}).where(Topic.id == topic_id)
                inside = await row_by_id(_SELECT_TOPIC, topic_id)
                assert inside is not None and inside["title"] == "事务中的标题"
                # Another request (a context without the transaction) reads the last commit.
                elsewhere = contextvars.Context()
                outside = await asyncio.create_task(
                    row_by_id(_SELECT_TOPIC, topic_id), context=elsewhere
                )
                assert typed(outside) == typed(before)
            after = await row_by_id(_SELECT_TOPIC, topic_id)
            assert typed(after) == typed({**before, "title": "事务中的标题"})
            await Topic.update({Topic.title: before["title"]}).where(Topic.id == topic_id)


async def test_an_sql_error_is_the_same_error(engines: Engines, varied: Varied) -> None:
    """A keyed read that cannot run fails as it does through Piccolo (no retry, no
    other answer), alone or in a batch with good reads, and the readers stay usable."""
    wrong = "SELECT id, no_such_column FROM topic"
    errors = []
    for engine in (engines.plain, engines.fast):
        with bound(engine):
            with pytest.raises(Exception) as raised:
                await row_by_id(wrong, varied.topics[0])
            errors.append((type(raised.value), str(raised.value)))
            answers = await asyncio.gather(
                row_by_id(wrong, varied.topics[1]),
                row_by_id(wrong, varied.topics[2]),
                row_by_id(_SELECT_TOPIC, varied.topics[3]),
                return_exceptions=True,
            )
            assert [type(a) for a in answers[:2]] == [type(raised.value)] * 2
            assert isinstance(answers[2], dict) and answers[2]["id"] == varied.topics[3]
            again = await row_by_id(_SELECT_TOPIC, varied.topics[0])
            assert again is not None and again["id"] == varied.topics[0]
    assert errors[0] == errors[1]


@contextlib.contextmanager
def slow_coalesced_reads(engine: Engine[Any], seconds: float) -> Iterator[list[int]]:
    """For the block, each coalesced query of ``engine``'s readers (PostgreSQL) answered
    ``seconds`` after the database did, as over a slow network: the widest window for
    an answer read before a commit to reach someone who asked after it. Yields how many
    ids each query asked for."""
    sizes: list[int] = [0]
    readers = engine.readers if isinstance(engine, PooledPostgresEngine) else None
    if readers is None:
        yield sizes  # SQLite reads inline: nothing is in flight
        return
    read = readers.read

    async def slow(sql: str, args: list[Any]) -> list[asyncpg.Record]:
        rows = await read(sql, args)
        if "ANY(" in sql:
            sizes.append(len(args[0]))
            await asyncio.sleep(seconds)
        return rows

    readers.read = slow  # type: ignore[method-assign]
    try:
        yield sizes
    finally:
        del readers.read  # the method again


async def test_concurrent_reads_racing_commits_see_each_commit(
    engines: Engines, varied: Varied
) -> None:
    """Many reads at once (the same ids and different ones, in one event-loop turn:
    coalesced on PostgreSQL) while a writer commits new versions of the same rows:
    every answer is a committed row exactly as plain Piccolo read it after that
    commit, never older than a commit finished before the read was asked for."""
    ids = varied.topics[:12]
    missing = 2**31 - 1
    read_with_piccolo = piccolo_read(_SELECT_TOPIC)
    rng = random.Random(24)
    with bound(engines.fast), slow_coalesced_reads(engines.fast, 0.005) as batches:
        # Versions count the writer's commits from here, so they only grow.
        await Topic.update({Topic.version: 0}).where(Topic.id.is_in(ids))
        committed = dict.fromkeys(ids, 0)
        snapshots = {(i, 0): typed(await read_with_piccolo(i)) for i in ids}
        writing: dict[int, int] = {}
        answers: list[tuple[int, int, int, dict[str, Any] | None]] = []
        done = asyncio.Event()

        async def writer() -> None:
            for n in range(120):
                topic_id = ids[rng.randrange(4)]  # a few rows written again and again
                version = n + 1
                writing[topic_id] = version
                async with write_transaction():
                    await Topic.update(
                        {Topic.version: version, Topic.title: f"赛跑·{n}·{TEXTS[n % 4]}"}
                    ).where(Topic.id == topic_id)
                committed[topic_id] = version
                del writing[topic_id]
                # The writer's own next read (as the next request of whoever saved).
                answers.append(
                    (topic_id, version, version, await row_by_id(_SELECT_TOPIC, topic_id))
                )
                snapshots[topic_id, version] = typed(await read_with_piccolo(topic_id))
                await asyncio.sleep(0)
            done.set()

        async def ask(topic_id: int) -> None:
            floor = committed.get(topic_id, 0)
            row = await row_by_id(_SELECT_TOPIC, topic_id)
            ceiling = max(committed.get(topic_id, 0), writing.get(topic_id, 0))
            answers.append((topic_id, floor, ceiling, row))

        async def reader() -> None:
            # Rounds of reads asked together, the readers out of step with one another:
            # reads are also asked while others are on their way.
            while not done.is_set():
                await asyncio.sleep(rng.choice((0, 0, 0.0002, 0.001)))
                asked = [ids[rng.randrange(len(ids))] for _ in range(rng.randrange(1, 11))]
                await asyncio.gather(*(ask(i) for i in [*asked, missing]))

        await asyncio.gather(writer(), *(reader() for _ in range(4)))
        final = await asyncio.gather(*(row_by_id(_SELECT_TOPIC, i) for i in ids))

    seen = set()
    for topic_id, floor, ceiling, row in answers:
        if topic_id == missing:
            assert row is None
            continue
        assert row is not None
        assert floor <= row["version"] <= ceiling, (topic_id, floor, row["version"], ceiling)
        assert typed(row) == snapshots[topic_id, row["version"]]
        seen.add((topic_id, row["version"]))
    assert len(seen) > 2 * len(ids), "the reads should have met the writes"
    if isinstance(engines.fast, PooledPostgresEngine):
        assert max(batches) > 5, "the reads should have been coalesced"
    assert [typed(row) for row in final] == [snapshots[i, committed[i]] for i in ids]


async def test_reads_after_dropped_connections_equal_plain_piccolo(
    engines: Engines, varied: Varied, is_postgres: bool
) -> None:
    """The readers' one shortcut with no counterpart in Piccolo: a connection the server
    dropped, while idle or in the middle of a read, is replaced and the read retried
    once. Every answer, alone or in a batch, is still plain Piccolo's (Piccolo's pool
    would fail the request that met the dropped connection; docs/decisions.md)."""
    if not is_postgres:
        pytest.skip("PostgreSQL only: SQLite keyed reads run inline, with no connection to drop")
    ids = varied.topics[:30]
    # A read that takes a while (pg_sleep), so that it can be cut off half-way.
    slow = "SELECT id, title, version, pg_sleep(0.3)::text AS slept FROM topic"
    with bound(engines.plain):
        expected = [typed(await row_by_id(_SELECT_TOPIC, i)) for i in ids]
        expected_slow = typed(await row_by_id(slow, ids[0]))
    with bound(engines.fast):
        assert [typed(await row_by_id(_SELECT_TOPIC, i)) for i in ids] == expected
        for together in (False, True):
            assert await drop_readers(engines.fast) >= 1
            if together:
                answers = await asyncio.gather(*(row_by_id(_SELECT_TOPIC, i) for i in ids))
            else:
                answers = [await row_by_id(_SELECT_TOPIC, i) for i in ids]
            assert [typed(row) for row in answers] == expected
        reading = asyncio.create_task(row_by_id(slow, ids[0]))
        assert await drop_readers(engines.fast, busy=True) == 1
        assert typed(await reading) == expected_slow


async def drop_readers(engine: Engine[Any], busy: bool = False) -> int:
    """End ``engine``'s reader connections from the server side, as a restart would;
    ``busy``: only one running a query, once there is one."""
    assert isinstance(engine, PooledPostgresEngine) and engine.readers is not None
    which = "WHERE application_name = $1 AND datname = current_database()"
    if busy:
        which += " AND state = 'active' AND query LIKE '%pg_sleep%'"
    admin = await asyncpg.connect(**engine.readers.config)
    try:
        for _ in range(500):
            dropped: int = await admin.fetchval(
                f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity {which}",
                READER_APPLICATION_NAME,
            )
            if dropped or not busy:
                return dropped
            await asyncio.sleep(0.01)
    finally:
        await admin.close()
    raise AssertionError("no reader was busy")


# Tokens -------------------------------------------------------------------------------


async def test_remembered_tokens_are_answered_as_decoded(
    move_clock: Callable[[float], None],
) -> None:
    """The token cache against PyJWT on every token, through the same life: valid (asked
    again and again, so from the cache), forged, tampered, from another key, evicted,
    then expired; each answer (the caller, or the refusal and its words) the same."""
    key = "k" * 32
    cached = TokenIssuer(key, ttl_seconds=60, cache=TokenCache(size=4))
    decoded = TokenIssuer(key, ttl_seconds=60)
    people = [
        Principal(i, f"用户{i}", role, township, village, session_id=100 + i)
        for i, (role, township, village) in enumerate(
            [("staff", 1, None), ("representative", 1, 3), ("supervisor", None, None)]
            + [("liaison", 2, None)] * 5,
            start=1,
        )
    ]
    now = timestamp()
    tokens = [cached.issue(p, now=now - i) for i, p in enumerate(people)]
    tokens.append(cached.issue(people[0], now=now - 58))  # expires within 2 s
    forged = TokenIssuer("x" * 32, ttl_seconds=60).issue(people[0])
    head, body, signature = tokens[0].split(".")
    tampered = [
        f"{head}.{body}.{signature[:-2]}AA",
        f"{head}.{tokens[1].split('.')[1]}.{signature}",
        tokens[0] + " ",
    ]
    odd = [forged, *tampered, "", "not-a-token", "a.b.c"]

    # Each forgery asked right after the token it imitates was remembered, and again
    # after that token was pushed out of the cache (it holds 4) and remembered anew.
    asked = [tokens[0], *odd, *tokens[1:], tokens[0], *odd]

    def answer(issuer: TokenIssuer, token: str) -> tuple[str, str]:
        try:
            return ("ok", repr(issuer.verify(token)))
        except Unauthenticated as refused:
            return ("refused", str(refused))

    def answers(issuer: TokenIssuer) -> list[tuple[str, str]]:
        return [answer(issuer, token) for token in asked]

    for _ in range(3):  # the second and third time from the cache (as far as it holds)
        assert answers(cached) == answers(decoded)
    assert {kind for kind, _ in answers(decoded)} == {"ok", "refused"}
    assert answer(cached, tokens[-1])[0] == "ok"
    move_clock(2.5)
    assert answer(decoded, tokens[-1])[0] == "refused"
    assert answers(cached) == answers(decoded)
    move_clock(60)
    assert {kind for kind, _ in answers(decoded)} == {"refused"}
    assert answers(cached) == answers(decoded)


# The request log ----------------------------------------------------------------------


# A warning and an error early (each written at once), then more lines than the
# buffer holds (256) before the next.
WARNINGS = (20, 420)
ERRORS = (50, 590)
LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.MULTILINE)


def written_log(buffered: bool) -> str:
    """What the server's log configuration writes to stderr for the same logging calls
    (requests, warnings, errors with tracebacks, debug lines), without the times."""
    stream = io.StringIO()
    real_stderr = sys.stderr
    sys.stderr = stream
    try:
        logging_config("INFO", buffered=buffered).configure()
        for n in range(600):
            logger = logging.getLogger(("deliberation.requests", "deliberation.api")[n % 2])
            message = f"request_id={n:032x} path=/api/v1/topics/{n} 中文 %s"
            if n in ERRORS:
                try:
                    raise ValueError(f"第 {n} 个错误")
                except ValueError:
                    logger.exception(message, "参数")
            else:
                level = logging.WARNING if n in WARNINGS else logging.INFO
                logger.log(logging.DEBUG if n % 7 == 0 else level, message, "参数")
        flush_logs()
        for handler in logging.getLogger().handlers:
            queue = getattr(handler, "queue", None)
            if queue is not None:  # Litestar's queue listener: until its thread wrote all
                queue.join()
    finally:
        sys.stderr = real_stderr
    return LOG_TIME.sub("", stream.getvalue())


def test_the_buffered_log_writes_what_litestar_logging_writes(settings: Settings) -> None:
    """Every line, in order, with the same words: requests, a warning (written at once),
    an error with its traceback, more lines than the buffer holds; DEBUG left out both
    ways."""
    try:
        buffered = written_log(buffered=True)
        plain = written_log(buffered=False)
    finally:
        logging_config(settings.log_level, buffered=settings.fast_path).configure()
    assert buffered == plain
    lines = buffered.splitlines()
    logged = [n for n in range(600) if n not in ERRORS and n % 7 != 0]
    assert len([line for line in lines if line.startswith(("INFO", "WARNING"))]) == len(logged)
    assert len([line for line in lines if line.startswith("ERROR")]) == len(ERRORS)
    assert "ValueError: 第 590 个错误" in lines and "DEBUG" not in buffered


def test_the_request_log_buffer_stops_its_flusher_cleanly_when_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Closing the buffered request log stops its flushing thread without an error (it
    once crashed when closed between two of its waits: logging.Handler.close() set the
    attribute that held the thread's stop event to True)."""
    crashed: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(args.exc_value))
    written: list[str] = []

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(record.getMessage())

    handlers = []
    for n in range(40):  # flushing all the time, so some close between two waits
        handler = fast_path.BufferedLogHandler(target=Sink(), flush_interval=0.0001)
        handler.handle(logging.makeLogRecord({"msg": f"第{n}行", "levelno": logging.INFO}))
        handlers.append(handler)
    for handler in handlers:
        handler.close()
    for handler in handlers:
        handler.flusher.join(timeout=5)
    assert not any(h.flusher.is_alive() for h in handlers) and crashed == []
    assert sorted(written) == sorted(f"第{n}行" for n in range(40))  # nothing lost
