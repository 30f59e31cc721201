"""Villagers' suggestions (议题建议, issue 27; docs/decisions.md "Suggestions and plans:
the spine"): each suggestion with its own chain (``suggestion_event``), its joint supports,
its screening and kept revisions; each township's threshold settings and each village's
registered villagers; and the title-only bigrams of topics (back-filled) and of
suggestions, for the similar-suggestion lookup.

Hand-written like 0021 and 0024: the same DDL on both engines apart from the ids and the
GIN indexes (PostgreSQL only, as 0002's). Nothing is read from the clock."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-08T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Villagers' suggestions, supports, screening, title grams"

KEEP = "ON DELETE RESTRICT"
ACCOUNT = f"INTEGER NULL REFERENCES account (id) {KEEP}"

COLUMNS = [
    "ALTER TABLE township ADD COLUMN threshold_representatives_divisor INTEGER NOT NULL DEFAULT 5",
    "ALTER TABLE township ADD COLUMN threshold_villagers_divisor INTEGER NOT NULL DEFAULT 10",
    "ALTER TABLE township ADD COLUMN screening_working_days INTEGER NOT NULL DEFAULT 10",
    "ALTER TABLE township ADD COLUMN decline_grounds TEXT NULL",
    "ALTER TABLE village ADD COLUMN registered_villagers INTEGER NULL",
    "ALTER TABLE topic ADD COLUMN title_grams TEXT NOT NULL DEFAULT ''",
]

TABLES = {
    "suggestion_counter": "year INTEGER NOT NULL UNIQUE, last_number INTEGER NOT NULL DEFAULT 0",
    "suggestion": (
        "reference VARCHAR(20) NOT NULL UNIQUE, "
        f"township INTEGER NOT NULL REFERENCES township (id) {KEEP}, "
        f"village INTEGER NULL REFERENCES village (id) {KEEP}, "
        "title VARCHAR(200) NOT NULL, "
        "content TEXT NOT NULL, "
        "public_title VARCHAR(200) NOT NULL, "
        "public_content TEXT NOT NULL, "
        "masks TEXT NOT NULL DEFAULT '[]', "
        "revision INTEGER NOT NULL DEFAULT 1, "
        f"filed_by {ACCOUNT}, "
        f"entered_by {ACCOUNT}, "
        "submitter_name VARCHAR(50) NOT NULL DEFAULT '', "
        "submitter_phone VARCHAR(20) NOT NULL DEFAULT '', "
        "phone_digest VARCHAR(64) NOT NULL DEFAULT '', "
        "client VARCHAR(64) NOT NULL DEFAULT '', "
        "status VARCHAR(20) NOT NULL DEFAULT 'pending', "
        "must_list_at TIMESTAMPTZ NULL, "
        "must_list_rule VARCHAR(20) NULL, "
        "screening_due_on DATE NULL, "
        "screening_due_provisional BOOLEAN NOT NULL DEFAULT false, "
        f"topic INTEGER NULL REFERENCES topic (id) {KEEP}, "
        f"merged_into INTEGER NULL REFERENCES suggestion (id) {KEEP}, "
        "title_grams TEXT NOT NULL DEFAULT '', "
        "event_seq INTEGER NOT NULL DEFAULT 0, "
        "created_at TIMESTAMPTZ NOT NULL, "
        "updated_at TIMESTAMPTZ NOT NULL"
    ),
    "suggestion_support": (
        f"suggestion INTEGER NOT NULL REFERENCES suggestion (id) {KEEP}, "
        "kind VARCHAR(20) NOT NULL, "
        f"account {ACCOUNT}, "
        "standing VARCHAR(20) NOT NULL, "
        "names TEXT NOT NULL DEFAULT '[]', "
        "headcount INTEGER NOT NULL DEFAULT 1, "
        "sheet_note TEXT NOT NULL DEFAULT '', "
        f"entered_by {ACCOUNT}, "
        "created_at TIMESTAMPTZ NOT NULL"
    ),
    "suggestion_screening": (
        f"suggestion INTEGER NOT NULL UNIQUE REFERENCES suggestion (id) {KEEP}, "
        "decision VARCHAR(20) NOT NULL, "
        "reason TEXT NOT NULL DEFAULT '', "
        "public_reason TEXT NOT NULL DEFAULT '', "
        "ground TEXT NOT NULL DEFAULT '', "
        "workflow_key VARCHAR(40) NULL, "
        "workflow_version INTEGER NULL, "
        f"topic INTEGER NULL REFERENCES topic (id) {KEEP}, "
        f"merged_into INTEGER NULL REFERENCES suggestion (id) {KEEP}, "
        f"screened_by INTEGER NOT NULL REFERENCES account (id) {KEEP}, "
        "screened_at TIMESTAMPTZ NOT NULL"
    ),
    "suggestion_revision": (
        f"suggestion INTEGER NOT NULL REFERENCES suggestion (id) {KEEP}, "
        "revision INTEGER NOT NULL, "
        "data TEXT NOT NULL, "
        "reason TEXT NOT NULL DEFAULT '', "
        f"created_by {ACCOUNT}, "
        "created_at TIMESTAMPTZ NOT NULL"
    ),
    "suggestion_event": (
        f"suggestion INTEGER NOT NULL REFERENCES suggestion (id) {KEEP}, "
        "seq INTEGER NOT NULL, "
        "kind VARCHAR(40) NOT NULL, "
        "data TEXT NOT NULL DEFAULT '{}', "
        "trigger VARCHAR(40) NOT NULL DEFAULT '', "
        "from_state VARCHAR(30) NULL, "
        "to_state VARCHAR(30) NOT NULL, "
        f"actor {ACCOUNT}, "
        "comment TEXT NOT NULL DEFAULT '', "
        "created_at TIMESTAMPTZ NOT NULL, "
        "prev_hash VARCHAR(64) NOT NULL, "
        "hash VARCHAR(64) NOT NULL"
    ),
    "suggestion_gram_count": (
        f"township INTEGER NOT NULL REFERENCES township (id) {KEEP}, "
        "gram VARCHAR(8) NOT NULL, "
        "n INTEGER NOT NULL DEFAULT 0"
    ),
    "suggestion_reminder_sent": (
        f"suggestion INTEGER NOT NULL REFERENCES suggestion (id) {KEEP}, "
        "kind VARCHAR(20) NOT NULL, "
        "due_on DATE NOT NULL, "
        "created_at TIMESTAMPTZ NOT NULL"
    ),
}

INDEXES = [
    "CREATE INDEX suggestion_township_status_ix ON suggestion (township, status)",
    "CREATE INDEX suggestion_village_ix ON suggestion (village)",
    "CREATE INDEX suggestion_topic_ix ON suggestion (topic)",
    "CREATE INDEX suggestion_client_created_ix ON suggestion (client, created_at)",
    "CREATE INDEX suggestion_phone_created_ix ON suggestion (phone_digest, created_at)",
    "CREATE INDEX suggestion_filed_by_created_ix ON suggestion (filed_by, created_at)",
    "CREATE INDEX suggestion_status_updated_ix ON suggestion (status, updated_at, id)",
    # The lists' order (latest changed first) walked in the index, the filters read
    # from it: no sort of every screened row, and a deep page skips index entries only
    # (docs/benchmarks.md, "issue 27: similar titles and the suggestions page").
    "CREATE INDEX suggestion_updated_ix ON suggestion (updated_at, id, status, township)",
    # Similar titles while typing: SQLite reads the grams from these instead of whole
    # rows (PostgreSQL picks candidates through the GIN indexes below).
    "CREATE INDEX suggestion_title_grams_ix ON suggestion (township, status, title_grams)",
    "CREATE INDEX topic_title_grams_ix ON topic (township, state, title_grams)",
    "CREATE INDEX suggestion_support_suggestion_ix ON suggestion_support (suggestion)",
    # One support per account (NULL: a paper sheet, any number of them).
    "CREATE UNIQUE INDEX suggestion_support_account_uq ON suggestion_support "
    "(suggestion, account) WHERE account IS NOT NULL",
    "CREATE INDEX suggestion_support_account_ix ON suggestion_support (account)",
    "CREATE UNIQUE INDEX suggestion_revision_uq ON suggestion_revision (suggestion, revision)",
    "CREATE UNIQUE INDEX suggestion_event_seq_uq ON suggestion_event (suggestion, seq)",
    "CREATE UNIQUE INDEX suggestion_gram_count_uq ON suggestion_gram_count (township, gram)",
    "CREATE UNIQUE INDEX suggestion_reminder_sent_uq ON suggestion_reminder_sent "
    "(suggestion, kind, due_on)",
]

# fastupdate off: a new title goes into the index at once. With it on, new rows wait in
# the index's pending list until a vacuum, and every lookup reads that whole list
# (13 ms for 10 000 titles, in every request while typing: docs/benchmarks.md, "issue
# 27: similar titles and the suggestions page").
POSTGRES = [
    "CREATE INDEX suggestion_title_grams_gin ON suggestion "
    "USING gin (string_to_array(title_grams, ' ')) WITH (fastupdate = off)",
    "CREATE INDEX topic_title_grams_gin ON topic "
    "USING gin (string_to_array(title_grams, ' ')) WITH (fastupdate = off)",
]


def title_grams(title: str) -> str:
    """As ``deliberation.search.title_grams`` today (a migration keeps its own copy, so
    a later change there does not change what this migration wrote)."""
    text = title.lower()
    seen: dict[str, None] = {}
    for i in range(len(text) - 1):
        gram = text[i : i + 2]
        if not gram[0].isspace() and not gram[1].isspace():
            seen.setdefault(gram, None)
    return " ".join(seen)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        postgres = engine.engine_type == "postgres"
        serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for statement in COLUMNS:
            await engine.run_ddl(statement)
        for table, columns in TABLES.items():
            await engine.run_ddl(f"CREATE TABLE {table} (id {serial}, {columns})")
        for statement in INDEXES + (POSTGRES if postgres else []):
            await engine.run_ddl(statement)
        # The title grams of the topics that exist.
        for row in await engine.run_ddl("SELECT id, title FROM topic ORDER BY id"):
            await engine.run_querystring(
                QueryString(
                    "UPDATE topic SET title_grams = {} WHERE id = {}",
                    title_grams(row["title"]),
                    row["id"],
                )
            )

    manager.add_raw(run)
    return manager
