"""Storage behaviour a user would notice: reads keep working when connections drop."""

from __future__ import annotations

import asyncpg
import pytest

from deliberation import fast_path
from deliberation.fast_path import READER_APPLICATION_NAME
from tests.world import World, open_topic


async def test_topic_reads_survive_dropped_database_connections(
    world: World, database_url: str, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL only: SQLite keyed reads run inline, with no connection to drop")
    if not fast_path.enabled():
        pytest.skip(
            "the fast path's readers are what reconnect; with it off, keyed reads use "
            "Piccolo's pool as it is (see deliberation/fast_path.py)"
        )
    staff = world.a["staff"]
    topic = await open_topic(world.a)
    assert (await staff.get(f"/api/v1/topics/{topic['id']}")).status_code == 200

    admin = await asyncpg.connect(database_url)
    try:
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            READER_APPLICATION_NAME,
        )
    finally:
        await admin.close()
    assert dropped >= 1

    # More reads than there are readers: every dropped one is replaced on the way.
    for _ in range(12):
        r = await staff.get(f"/api/v1/topics/{topic['id']}")
        assert r.status_code == 200, r.text
        assert r.json()["title"] == topic["title"]
