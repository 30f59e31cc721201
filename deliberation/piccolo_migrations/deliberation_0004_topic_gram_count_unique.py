"""Unique (township, gram) for the counters, and counts for topics that already exist
(hand-written: runs after 0003 has created the table)."""

from collections import Counter

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-27T16:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique topic gram counters, backfilled"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def unique_township_gram() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX topic_gram_count_uq ON topic_gram_count (township, gram)"
        )
        # Count the grams of the topics that already exist.
        counts: Counter[tuple[int, str]] = Counter()
        for row in await engine.run_ddl("SELECT township, search_grams FROM topic"):
            for gram in set(row["search_grams"].split()):
                counts[(row["township"], gram)] += 1
        for (township, gram), n in sorted(counts.items()):
            await engine.run_querystring(
                QueryString(
                    "INSERT INTO topic_gram_count (township, gram, n) VALUES ({}, {}, {})",
                    township,
                    gram,
                    n,
                )
            )

    manager.add_raw(unique_township_gram)
    return manager
