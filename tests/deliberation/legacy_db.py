"""A database as the first release left it, then today's ``migrate``, in an application
context of its own (its engine and key, not the suite's): :func:`built` in this process,
or ``python -m tests.deliberation.legacy_db PATH [--tamper]`` printing what happened as
JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from datetime import UTC, datetime, timedelta

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.querystring import QueryString

from deliberation import audit, chain
from deliberation.context import AppContext, entered
from deliberation.database import bind_engine, close_engine, engine_for_url, open_engine
from deliberation.migrate import MigrationFailed, migrate, use_package_conf
from deliberation.tables import TopicEvent

FIRST_RELEASE = "2026-11-27T17:47:00:000000"
"""The last migration of the first release (0010)."""
KEY = "legacy-test-audit-key-0123456789"


async def build(path: str, tamper: bool) -> dict[str, object]:
    use_package_conf()
    engine = engine_for_url(f"sqlite:///{path}")
    bind_engine(engine)
    await open_engine(engine)
    try:
        await run_forwards(app_name="deliberation", migration_id=FIRST_RELEASE, fake=False)
        start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        run = engine.run_ddl
        await run(
            f"INSERT INTO township (id, name, created_at) VALUES (1, '旧镇', '{start.isoformat()}')"
        )
        await run(
            "INSERT INTO account (id, username, password_hash, display_name, role, township, "
            f"village, active, created_at) VALUES (1, 'old', 'x', '旧联络员', 'liaison', 1, NULL, 1, "
            f"'{start.isoformat()}')"
        )
        await run(
            "INSERT INTO topic (id, reference, title, description, category, township, village, "
            "state, version, opened_by, created_at, updated_at, stage_entered_on, due_on, "
            "due_provisional, search_text, search_grams) VALUES (1, 'HSL-2026-0001', '旧议题', "
            f"'说明', '', 1, NULL, 'investigated', 2, 1, '{start.isoformat()}', "
            f"'{start.isoformat()}', NULL, NULL, 0, '', '')"
        )
        await run(
            "INSERT INTO investigation (id, topic, visited_on, place, participants, findings, "
            f"recorded_by, created_at) VALUES (1, 1, '2026-11-20', '三组', '甲乙', '属实', 1, "
            f"'{start.isoformat()}')"
        )
        prev = chain.GENESIS
        moves = [("open", None, "proposed"), ("investigate", "proposed", "investigated")]
        for seq, (trigger, source, dest) in enumerate(moves, start=1):
            event = {
                "seq": seq,
                "trigger": trigger,
                "from_state": source,
                "to_state": dest,
                "actor": 1,
                "comment": "旧说明" if seq == 2 else "",
                "created_at": start + timedelta(hours=seq),
            }
            hashed = audit.legacy_hash(prev, 1, event)
            if tamper and seq == 2:
                event["comment"] = "改过"  # edited after hashing, as an attacker would
            # The first release's columns only (no kind, no data yet).
            await engine.run_querystring(
                QueryString(
                    "INSERT INTO topic_event (topic, seq, trigger, from_state, to_state, actor, "
                    "comment, created_at, prev_hash, hash) VALUES (1, {}, {}, {}, {}, 1, {}, {}, "
                    "{}, {})",
                    seq,
                    trigger,
                    source,
                    dest,
                    event["comment"],
                    event["created_at"],
                    prev,
                    hashed,
                )
            )
            prev = hashed
        chain.use_key(KEY)
        try:
            report = await migrate(quiet=True)
        except MigrationFailed as error:
            return {"migrated": False, "error": str(error)}
        checked, problems = await audit.verify_all()
        rows = (
            await TopicEvent.select(TopicEvent.seq, TopicEvent.kind, TopicEvent.comment)
            .where(TopicEvent.topic == 1)
            .order_by(TopicEvent.seq)
        )
        again = await audit.rekey()
        chain.use_key("another-key-entirely-0123456789")
        try:
            await audit.check_key()
            other_key = "accepted"
        except audit.ChainKeyMismatch:
            other_key = "refused"
        return {
            "migrated": True,
            "report": report,
            "checked": checked,
            "problems": [p.describe() for p in problems],
            "events": [[r["seq"], r["kind"], r["comment"]] for r in rows],
            "rekeyed_again": again,
            "other_key": other_key,
        }
    finally:
        await close_engine(engine)


def built(path: str, tamper: bool) -> dict[str, object]:
    """:func:`build` in a thread and an application context of its own (the caller may
    be a test on the suite's event loop)."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            with entered(AppContext()):
                outcome["result"] = asyncio.run(build(path, tamper))
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=work, name="legacy-db")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(build(sys.argv[1], "--tamper" in sys.argv)), ensure_ascii=False))
