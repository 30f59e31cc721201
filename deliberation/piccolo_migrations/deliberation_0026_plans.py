"""The annual plan (年度协商计划, issue 27): a plan series per year and township (or the
county), with its own chain (``plan_event``), its versions and their items; the county's
document counter; and documents owned by a plan version instead of a topic.

``document`` gains ``plan_version`` and a CHECK that exactly one of ``topic`` and
``plan_version`` is set; ``topic`` and ``township`` may be NULL (the county's plan has no
township). PostgreSQL alters the table in place. SQLite cannot add a CHECK to a table, so
this is the repository's first table rebuild, SQLite's documented procedure
(https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"):
create ``document_new``, copy every row, drop ``document``, rename, re-create the
indexes, all in the migration's transaction. It is safe with foreign keys on: the only
table referencing ``document`` is ``plan_version``, created empty just before
(``superseded_by`` is a plain integer). Nothing is read from the clock."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-08T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Annual plans, their chain, documents of a plan version"

KEEP = "ON DELETE RESTRICT"

TABLES = {
    "plan": (
        "year INTEGER NOT NULL, "
        f"township INTEGER NULL REFERENCES township (id) {KEEP}, "
        "reference VARCHAR(60) NOT NULL UNIQUE, "
        "event_seq INTEGER NOT NULL DEFAULT 0, "
        "created_at TIMESTAMPTZ NOT NULL"
    ),
    "plan_version": (
        f"plan INTEGER NOT NULL REFERENCES plan (id) {KEEP}, "
        "version INTEGER NOT NULL, "
        "status VARCHAR(20) NOT NULL DEFAULT 'draft', "
        "note TEXT NOT NULL DEFAULT '', "
        f"document INTEGER NULL REFERENCES document (id) {KEEP}, "
        f"created_by INTEGER NOT NULL REFERENCES account (id) {KEEP}, "
        "created_at TIMESTAMPTZ NOT NULL, "
        f"published_by INTEGER NULL REFERENCES account (id) {KEEP}, "
        "published_at TIMESTAMPTZ NULL"
    ),
    "plan_item": (
        f"plan_version INTEGER NOT NULL REFERENCES plan_version (id) {KEEP}, "
        "position INTEGER NOT NULL, "
        "quarter INTEGER NOT NULL CHECK (quarter BETWEEN 1 AND 4), "
        "title VARCHAR(200) NOT NULL, "
        "workflow_key VARCHAR(40) NOT NULL, "
        "lead_unit VARCHAR(100) NOT NULL, "
        f"suggestion INTEGER NULL REFERENCES suggestion (id) {KEEP}, "
        f"topic INTEGER NULL REFERENCES topic (id) {KEEP}, "
        f"township INTEGER NULL REFERENCES township (id) {KEEP}, "
        f"carried_from INTEGER NULL REFERENCES plan_item (id) {KEEP}"
    ),
    "plan_event": (
        f"plan INTEGER NOT NULL REFERENCES plan (id) {KEEP}, "
        "seq INTEGER NOT NULL, "
        "kind VARCHAR(40) NOT NULL, "
        "data TEXT NOT NULL DEFAULT '{}', "
        "trigger VARCHAR(40) NOT NULL DEFAULT '', "
        "from_state VARCHAR(30) NULL, "
        "to_state VARCHAR(30) NOT NULL, "
        f"actor INTEGER NULL REFERENCES account (id) {KEEP}, "
        "comment TEXT NOT NULL DEFAULT '', "
        "created_at TIMESTAMPTZ NOT NULL, "
        "prev_hash VARCHAR(64) NOT NULL, "
        "hash VARCHAR(64) NOT NULL"
    ),
    "county_document_counter": (
        "year INTEGER NOT NULL UNIQUE, last_number INTEGER NOT NULL DEFAULT 0"
    ),
}

PLAN_INDEXES = [
    "CREATE UNIQUE INDEX plan_year_township_uq ON plan (year, township)",
    # NULLs are distinct in a UNIQUE index: one county plan a year needs its own.
    "CREATE UNIQUE INDEX plan_county_year_uq ON plan (year) WHERE township IS NULL",
    "CREATE UNIQUE INDEX plan_version_uq ON plan_version (plan, version)",
    "CREATE UNIQUE INDEX plan_version_draft_uq ON plan_version (plan) WHERE status = 'draft'",
    "CREATE UNIQUE INDEX plan_item_position_uq ON plan_item (plan_version, position)",
    "CREATE INDEX plan_item_suggestion_ix ON plan_item (suggestion)",
    "CREATE INDEX plan_item_topic_ix ON plan_item (topic)",
    "CREATE UNIQUE INDEX plan_event_seq_uq ON plan_event (plan, seq)",
]

ONE_OWNER = "CHECK ((topic IS NULL) <> (plan_version IS NULL))"

DOCUMENT_COLUMNS = (
    "id",
    "topic",
    "township",
    "kind",
    "title",
    "status",
    "number_year",
    "number",
    "content",
    "search_text",
    "pdf",
    "sha256",
    "size_bytes",
    "created_by",
    "created_at",
    "published_at",
    "published_by",
    "posting_starts_on",
    "posting_ends_on",
    "posting_provisional",
    "superseded_by",
    "superseded_at",
    "revoked_at",
    "revoked_by",
    "revoke_reason",
    "chain_seq",
    "chain_hash",
    "source_seq",
)
"""Every column ``document`` had before this migration (0005, 0011, 0017)."""

_REF = "ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null"
SQLITE_DOCUMENT = (
    'CREATE TABLE "document_new" ('
    '"id" INTEGER PRIMARY KEY NOT NULL, '
    f'"topic" INTEGER REFERENCES "topic" ("id") {_REF}, '
    f'"township" INTEGER REFERENCES "township" ("id") {_REF}, '
    "\"kind\" VARCHAR(30) NOT NULL DEFAULT '', "
    "\"title\" VARCHAR(300) NOT NULL DEFAULT '', "
    "\"status\" VARCHAR(20) NOT NULL DEFAULT '', "
    '"number_year" INTEGER DEFAULT null, '
    '"number" INTEGER DEFAULT null, '
    "\"content\" TEXT NOT NULL DEFAULT '', "
    "\"search_text\" TEXT NOT NULL DEFAULT '', "
    "\"pdf\" BLOB NOT NULL DEFAULT '', "
    "\"sha256\" VARCHAR(64) NOT NULL DEFAULT '', "
    '"size_bytes" INTEGER NOT NULL DEFAULT 0, '
    f'"created_by" INTEGER REFERENCES "account" ("id") {_REF}, '
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"published_at" TIMESTAMPTZ DEFAULT null, '
    f'"published_by" INTEGER REFERENCES "account" ("id") {_REF}, '
    '"posting_starts_on" DATE DEFAULT null, '
    '"posting_ends_on" DATE DEFAULT null, '
    '"posting_provisional" BOOLEAN NOT NULL DEFAULT false, '
    '"superseded_by" INTEGER DEFAULT null, '
    '"superseded_at" TIMESTAMPTZ DEFAULT null, '
    '"revoked_at" TIMESTAMPTZ DEFAULT null, '
    f'"revoked_by" INTEGER REFERENCES "account" ("id") {_REF}, '
    "\"revoke_reason\" TEXT NOT NULL DEFAULT '', "
    "chain_seq INTEGER NULL, "
    "chain_hash VARCHAR(64) NULL, "
    "source_seq INTEGER, "
    f"plan_version INTEGER NULL REFERENCES plan_version (id) {KEEP}, "
    f"CONSTRAINT document_one_owner {ONE_OWNER})"
)

SQLITE_DOCUMENT_INDEXES = [
    # As 0005 and 0006 made them.
    'CREATE INDEX document_topic ON "document" ("topic")',
    'CREATE INDEX document_township ON "document" ("township")',
    'CREATE INDEX document_status ON "document" ("status")',
    'CREATE INDEX document_published_at ON "document" ("published_at")',
    "CREATE UNIQUE INDEX document_number_uq ON document (township, number_year, number)",
    "CREATE UNIQUE INDEX document_published_uq ON document (topic, kind) "
    "WHERE status = 'published'",
]

POSTGRES_DOCUMENT = [
    "ALTER TABLE document ALTER COLUMN topic DROP NOT NULL",
    "ALTER TABLE document ALTER COLUMN township DROP NOT NULL",
    f"ALTER TABLE document ADD COLUMN plan_version INTEGER NULL "
    f"REFERENCES plan_version (id) {KEEP}",
    f"ALTER TABLE document ADD CONSTRAINT document_one_owner {ONE_OWNER}",
]

DOCUMENT_INDEXES = [
    "CREATE INDEX document_plan_version_ix ON document (plan_version)",
    # One published document of a kind per plan version, as per topic (0006).
    "CREATE UNIQUE INDEX document_plan_published_uq ON document (plan_version, kind) "
    "WHERE status = 'published'",
    # The county's numbers (no township) are unique per year too.
    "CREATE UNIQUE INDEX document_county_number_uq ON document (number_year, number) "
    "WHERE township IS NULL AND number IS NOT NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliberation", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        postgres = engine.engine_type == "postgres"
        serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for table, columns in TABLES.items():
            await engine.run_ddl(f"CREATE TABLE {table} (id {serial}, {columns})")
        for statement in PLAN_INDEXES:
            await engine.run_ddl(statement)
        if postgres:
            for statement in POSTGRES_DOCUMENT:
                await engine.run_ddl(statement)
        else:
            columns = ", ".join(f'"{name}"' for name in DOCUMENT_COLUMNS)
            await engine.run_ddl(SQLITE_DOCUMENT)
            await engine.run_ddl(
                f"INSERT INTO document_new ({columns}) SELECT {columns} FROM document"
            )
            await engine.run_ddl("DROP TABLE document")
            await engine.run_ddl("ALTER TABLE document_new RENAME TO document")
            for statement in SQLITE_DOCUMENT_INDEXES:
                await engine.run_ddl(statement)
        for statement in DOCUMENT_INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
