"""Composite unique constraints and the topic search index (hand-written: Piccolo's
auto migrations do not express these)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite unique constraints, topic search index"

COMMON = [
    "CREATE UNIQUE INDEX village_township_name_uq ON village (township, name)",
    "CREATE UNIQUE INDEX topic_event_topic_seq_uq ON topic_event (topic, seq)",
    "CREATE UNIQUE INDEX satisfaction_topic_rep_uq ON satisfaction_rating (topic, representative)",
    "CREATE INDEX topic_township_created_ix ON topic (township, created_at, id)",
]

POSTGRES = [
    # Character bigrams of title + description, as a text array with a GIN index:
    # a 2-character Chinese word becomes one array element, so it is found by the
    # index instead of a sequential scan (pg_trgm needs 3 characters).
    "CREATE INDEX topic_search_grams_gin ON topic USING gin (string_to_array(search_grams, ' '))",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        statements = list(COMMON)
        if engine.engine_type == "postgres":
            statements += POSTGRES
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
