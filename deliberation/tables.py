"""Piccolo tables. Schema changes go through migrations in ``piccolo_migrations/``.

Records that must be kept (topics, their events and every record of the
consultation) reference their parents with ``ON DELETE RESTRICT``: nothing of
the record is ever deleted by cascade.
"""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

KEEP = OnDelete.restrict


class Township(Table, tablename="township"):
    id: Serial
    name = Varchar(length=100, unique=True)
    created_at = Timestamptz()
    offered_workflows = Text(null=True, default=None)
    """The keys of the township-scope workflows it offers, a JSON list the administrator
    chose; NULL: every loaded one (``deliberation.offerings``, migration 0021)."""
    # Villagers' suggestions (issue 27, migration 0025): a suggestion must be listed once
    # supports × divisor ≥ roster (one fifth of the village's representatives, or one
    # tenth of its registered villagers), and screened within so many working days.
    threshold_representatives_divisor = Integer(default=5)
    threshold_villagers_divisor = Integer(default=10)
    screening_working_days = Integer(default=10)
    decline_grounds = Text(null=True, default=None)
    """The grounds a must-list suggestion may be declined on, a JSON list; NULL: the
    shipped defaults."""


class Village(Table, tablename="village"):
    id: Serial
    name = Varchar(length=100)
    township = ForeignKey(Township, on_delete=KEEP, index=True)
    created_at = Timestamptz()
    offered_workflows = Text(null=True, default=None)
    """The keys of the village-scope workflows it offers (as the township's)."""
    shuoshi_day = Integer(null=True, default=None)
    """Its monthly 说事日 (1–28), or None (deliberation/shuoshi_day.py)."""
    registered_villagers = Integer(null=True, default=None)
    """登记村民人数, the roster of the one-tenth rule; None: that rule is off (issue 27)."""


class Account(Table, tablename="account"):
    id: Serial
    username = Varchar(length=64, unique=True)
    """Unique regardless of case too: the index ``account_username_lower`` on
    ``lower(username)`` (migration 0018; Piccolo cannot declare an index on an
    expression). Sign-in matches it whatever the case."""
    password_hash = Varchar(length=255)
    display_name = Varchar(length=100)
    role = Varchar(length=20)
    township = ForeignKey(Township, on_delete=KEEP, null=True, index=True)
    village = ForeignKey(Village, on_delete=KEEP, null=True)
    active = Boolean(default=True)
    must_change_password = Boolean(default=False)
    """Set by an administrator's reset: the next sign-in may only choose a new password."""
    created_at = Timestamptz()
    phone = Varchar(length=20, default="")
    """A mobile number, when an import gave one (seen by administrators and the person)."""


class AuthSession(Table, tablename="auth_session"):
    """One sign-in: a bearer token or a page cookie carries its id (``sid``), and every
    request reads this row, so ending it here ends the token on every process."""

    id: Serial
    account = ForeignKey(Account, on_delete=KEEP, index=True)
    kind = Varchar(length=10)
    """``api`` (bearer token) or ``page`` (cookie; ends after the idle time)."""
    client = Varchar(length=64)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    ended_reason = Varchar(length=30, default="")
    must_change_password = Boolean(default=False)
    csrf_digest = Varchar(length=64, default="")
    """A page session's CSRF token (its SHA-256), set at sign-in: a form is accepted only
    with the token of the session it is posted in."""


class SecurityEvent(Table, tablename="security_event"):
    """The security log: sign-ins (both outcomes), sign-outs, password changes and
    resets, and administrators' changes to accounts, townships and villages."""

    id: Serial
    created_at = Timestamptz(index=True)
    kind = Varchar(length=40)
    username = Varchar(length=64)
    account = ForeignKey(Account, on_delete=KEEP, null=True)
    actor = ForeignKey(Account, on_delete=KEEP, null=True)
    client = Varchar(length=64)
    result = Varchar(length=20)
    detail = Text()


class LoginFailure(Table, tablename="login_failure"):
    """Failed sign-ins, counted per username and per client address for the rate limit."""

    id: Serial
    username = Varchar(length=64, index=True)
    client = Varchar(length=64, index=True)
    created_at = Timestamptz(index=True)


class ReferenceCounter(Table, tablename="reference_counter"):
    """Next topic number per year, for references like ``HSL-2026-0007``."""

    id: Serial
    year = Integer(unique=True)
    last_number = Integer(default=0)


class Topic(Table, tablename="topic"):
    id: Serial
    reference = Varchar(length=20, unique=True)
    title = Varchar(length=200)
    description = Text()
    category = Varchar(length=50)
    township = ForeignKey(Township, on_delete=KEEP, index=True)
    village = ForeignKey(Village, on_delete=KEEP, null=True, index=True)
    state = Varchar(length=30, index=True)
    version = Integer(default=1)
    opened_by = ForeignKey(Account, on_delete=KEEP)
    created_at = Timestamptz(index=True)
    updated_at = Timestamptz()
    # The China date the topic entered its current state, and when that stage is due.
    stage_entered_on = Date(null=True, default=None)
    due_on = Date(null=True, default=None, index=True)
    due_provisional = Boolean(default=False)
    # Lower-cased title and description, for exact substring matching.
    search_text = Text()
    # Space-separated character bigrams of ``search_text``, indexed for ``q``.
    search_grams = Text()
    # How many events the topic's chain has (``version`` counts transitions only, for
    # compare-and-set; records added meanwhile must not make a trigger stale).
    event_seq = Integer(default=0)
    # The county's urge (督办) in the current stage, cleared by the next transition (every
    # urge is also an event on the chain).
    urged_at = Timestamptz(null=True, default=None)
    urge_note = Text()
    urged_by = ForeignKey(Account, on_delete=KEEP, null=True)
    # The workflow the topic follows, pinned at opening to the newest loaded version of
    # its key (migration 0019 pinned every older topic to standard v1).
    workflow_key = Varchar(length=40, default="standard")
    workflow_version = Integer(default=1)
    # Space-separated character bigrams of the lower-cased title alone (short, for the
    # similar-suggestion lookup; ``search.title_grams``, migration 0025).
    title_grams = Text(default="")


class TopicGramCount(Table, tablename="topic_gram_count"):
    """How many of a township's topics contain each character bigram.

    A two-character query is exactly one bigram, so its ``total`` is read here
    instead of counting every match (kept in the same transaction as the topic).
    """

    id: Serial
    township = ForeignKey(Township, on_delete=KEEP)
    gram = Varchar(length=8)
    n = Integer(default=0)


class TopicEvent(Table, tablename="topic_event"):
    """The append-only, hash-chained history of a topic: every change, keyed-hashed
    (``deliberation.audit``)."""

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    seq = Integer()
    # topic.opened, transition, record.created, record.corrected, opinion.answered, …
    kind = Varchar(length=40, default="transition")
    # What changed, as canonical JSON: the record, its revision and digests.
    data = Text(default="{}")
    trigger = Varchar(length=40)
    from_state = Varchar(length=30, null=True, default=None)
    to_state = Varchar(length=30)
    actor = ForeignKey(Account, on_delete=KEEP, null=True)
    comment = Text()
    created_at = Timestamptz()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class Opinion(Table, tablename="opinion"):
    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    author = ForeignKey(Account, on_delete=KEEP)
    content = Text()
    stance = Varchar(length=20)
    on_behalf_of = Varchar(length=50)
    adoption = Varchar(length=20, null=True, default=None)
    answer_reason = Text()
    answered_by = ForeignKey(Account, on_delete=KEEP, null=True)
    answered_at = Timestamptz(null=True, default=None)
    revision = Integer(default=1)
    created_at = Timestamptz()


class Investigation(Table, tablename="investigation"):
    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    visited_on = Date()
    place = Varchar(length=200)
    participants = Text()
    findings = Text()
    recorded_by = ForeignKey(Account, on_delete=KEEP)
    revision = Integer(default=1)
    created_at = Timestamptz()


class SiteConsultation(Table, tablename="site_consultation"):
    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    held_on = Date()
    place = Varchar(length=200)
    participants = Text()
    summary = Text()
    recorded_by = ForeignKey(Account, on_delete=KEEP)
    revision = Integer(default=1)
    created_at = Timestamptz()


class Vote(Table, tablename="vote"):
    """A body's vote on a topic (表决: 党员大会, 村民代表会议, …), a record of type
    ``vote`` (docs/record-kinds.md): ``kind`` is the workflow's record kind."""

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    kind = Varchar(length=40)
    body = Varchar(length=50)
    held_on = Date()
    roster_size = Integer()
    present = Integer()
    votes_for = Integer()
    against = Integer()
    abstain = Integer()
    method = Varchar(length=20)
    presided_by = Varchar(length=100)
    notice_given_on = Date(null=True, default=None)
    """When the meeting was announced (a 村民会议 needs ten days' notice)."""
    author = ForeignKey(Account, on_delete=KEEP)
    revision = Integer(default=1)
    created_at = Timestamptz()


class NoteRecord(Table, tablename="note_record"):
    """A note (dated, a place, who took part, what was found or said) of any record kind
    of type ``note`` without a table of its own (docs/record-kinds.md): ``kind`` is the
    workflow's record kind."""

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    kind = Varchar(length=40)
    held_on = Date()
    place = Varchar(length=200)
    participants = Text()
    summary = Text()
    recorded_by = ForeignKey(Account, on_delete=KEEP)
    revision = Integer(default=1)
    created_at = Timestamptz()


class Meeting(Table, tablename="meeting"):
    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    scheduled_at = Timestamptz()
    place = Varchar(length=200)
    host = Varchar(length=100)
    minutes_summary = Text()
    minutes_decisions = Text()
    minutes_recorded_at = Timestamptz(null=True, default=None)
    minutes_recorded_by = ForeignKey(Account, on_delete=KEEP, null=True)
    created_by = ForeignKey(Account, on_delete=KEEP)
    revision = Integer(default=1)
    created_at = Timestamptz()


class MeetingAttendee(Table, tablename="meeting_attendee"):
    """The roster of a meeting's minutes; replaced as a whole when the minutes are saved."""

    id: Serial
    meeting = ForeignKey(Meeting, on_delete=KEEP, index=True)
    position = Integer()
    name = Varchar(length=50)
    unit = Varchar(length=100)
    attendance = Varchar(length=20)


class ResolutionItem(Table, tablename="resolution_item"):
    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    content = Text()
    responsible_unit = Varchar(length=100)
    due_date = Date()
    completed = Boolean(default=False)
    created_by = ForeignKey(Account, on_delete=KEEP)
    revision = Integer(default=1)
    created_at = Timestamptz()


class ProgressReport(Table, tablename="progress_report"):
    id: Serial
    item = ForeignKey(ResolutionItem, on_delete=KEEP, index=True)
    note = Text()
    percent = Integer()
    completed = Boolean(default=False)
    reported_by = ForeignKey(Account, on_delete=KEEP)
    created_at = Timestamptz()


class SatisfactionRating(Table, tablename="satisfaction_rating"):
    """One per representative per topic; a new rating replaces the old one."""

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    representative = ForeignKey(Account, on_delete=KEEP)
    rating = Varchar(length=30)
    comment = Text()
    revision = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Document(Table, tablename="document"):
    """An official document of a topic or of an annual plan's version: a draft until
    published, then frozen.

    ``pdf`` and ``sha256`` never change once ``status`` leaves ``draft``. Exactly one of
    ``topic`` and ``plan_version`` is set (a CHECK, migration 0026); ``township`` is
    None for the county's plan.
    """

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, null=True, index=True)
    township = ForeignKey(Township, on_delete=KEEP, null=True, index=True)
    kind = Varchar(length=30)
    # "关于“<topic title, up to 200>”协商成果落实情况的通报"
    title = Varchar(length=300)
    status = Varchar(length=20, index=True)
    # Published resolution notices are numbered per township and year: 〔2026〕7号.
    number_year = Integer(null=True, default=None)
    number = Integer(null=True, default=None)
    # What the draft was rendered from (JSON), so publishing renders the same words.
    content = Text()
    # The document's text, lower-cased, for the public keyword search.
    search_text = Text()
    pdf = Bytea()
    sha256 = Varchar(length=64)
    size_bytes = Integer(default=0)
    created_by = ForeignKey(Account, on_delete=KEEP)
    created_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None, index=True)
    published_by = ForeignKey(Account, on_delete=KEEP, null=True)
    posting_starts_on = Date(null=True, default=None)
    posting_ends_on = Date(null=True, default=None)
    posting_provisional = Boolean(default=False)
    superseded_by = Integer(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(Account, on_delete=KEEP, null=True)
    revoke_reason = Text()
    # The topic's chain head when it was published (shown on its verify page).
    chain_seq = Integer(null=True, default=None)
    chain_hash = Varchar(length=64, null=True, default=None)
    # The topic's chain position (event count) when the draft's words were read from the
    # record: a later change to what it prints makes it stale (documents/service.py).
    source_seq = Integer(null=True, default=None)
    plan_version: ForeignKey[PlanVersion] = ForeignKey(
        "PlanVersion", on_delete=KEEP, null=True, index=True
    )
    """The annual plan version it is the notice of (issue 27); None for a topic's."""


class RecordRevision(Table, tablename="record_revision"):
    """An earlier revision of a record, kept when it is corrected or answered again."""

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP, index=True)
    record_kind = Varchar(length=30)
    record_id = Integer()
    revision = Integer()
    data = Text()  # the record as it was (JSON)
    reason = Text()
    created_by = ForeignKey(Account, on_delete=KEEP, null=True)
    created_at = Timestamptz()


class ChainKey(Table, tablename="chain_key"):
    """Which key the chain is hashed with: a fingerprint, never the key itself."""

    id: Serial
    fingerprint = Varchar(length=64)
    keyed_at = Timestamptz()
    # How events vouch for records (deliberation.chain.SCHEME); raised by audit.revouch.
    scheme = Integer(default=1)


class DocumentCounter(Table, tablename="document_counter"):
    """Last number given to a published resolution notice, per township and year."""

    id: Serial
    township = ForeignKey(Township, on_delete=KEEP)
    year = Integer()
    last_number = Integer(default=0)


class NoticeBoard(Table, tablename="notice_board"):
    """One row (id 1): the public notice board's version, raised with every change to
    what the board shows, so cached board pages know when they are stale."""

    id: Serial
    version = Integer(default=0)


class RosterVersion(Table, tablename="roster_version"):
    """One row (id 1): raised with every change to a township, village or account, in
    its transaction (``security_log.log``), so cached figures know names changed."""

    id: Serial
    version = Integer(default=0)


class ArchiveCounter(Table, tablename="archive_counter"):
    """The last archive item number (件号) given in a year; ``id`` is the year."""

    id: Serial
    last_number = Integer(default=0)


class ArchiveItem(Table, tablename="archive_item"):
    """A finished topic's place in the archive: ``id`` is the topic's id; its year (the
    year it ended, China time) and item number make its archive code (档号)."""

    id: Serial
    year = Integer()
    number = Integer()
    archived_at = Timestamptz()


class HolidaySchedule(Table, tablename="holiday_schedule"):
    """An official working-day schedule loaded by an administrator for one year
    (JSON lists of ISO dates); it wins over the ``chinese-calendar`` package."""

    id: Serial
    year = Integer(unique=True)
    holidays = Text()
    workdays = Text()
    source = Text()
    loaded_at = Timestamptz()


class Webhook(Table, tablename="webhook"):
    """A township's subscription: where to send which events, in which format."""

    id: Serial
    township = ForeignKey(Township, on_delete=KEEP, index=True)
    target_url = Varchar(length=500)
    format = Varchar(length=20)
    events = Text()  # JSON list of event types
    digest = Boolean(default=False)
    secret = Varchar(length=64)
    active = Boolean(default=True)
    created_by = ForeignKey(Account, on_delete=KEEP)
    created_at = Timestamptz()
    last_digest_on = Date(null=True, default=None)


class OutboxEvent(Table, tablename="outbox_event"):
    """Something worth telling, written in the same transaction as the change itself."""

    id: Serial
    event_id = Varchar(length=32, unique=True)
    type = Varchar(length=40)
    township = ForeignKey(Township, on_delete=KEEP, index=True)
    topic = ForeignKey(Topic, on_delete=KEEP, null=True, index=True)
    payload = Text()  # JSON
    created_at = Timestamptz(index=True)


class Delivery(Table, tablename="delivery"):
    """One event to one webhook: pending until delivered, or dead after its maximum age."""

    id: Serial
    event = ForeignKey(OutboxEvent, on_delete=KEEP, index=True)
    webhook = ForeignKey(Webhook, on_delete=KEEP, index=True)
    status = Varchar(length=20, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None)
    last_error = Text()
    delivered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class ReminderSent(Table, tablename="reminder_sent"):
    """A deadline reminder already emitted: once per topic, kind and due date."""

    id: Serial
    topic = ForeignKey(Topic, on_delete=KEEP)
    kind = Varchar(length=20)
    due_on = Date()
    created_at = Timestamptz()


# Villagers' suggestions (议题建议) and the annual plan (年度协商计划), issue 27 -----------


class SuggestionCounter(Table, tablename="suggestion_counter"):
    """Next suggestion number per year, for references like ``JY-2027-0001``."""

    id: Serial
    year = Integer(unique=True)
    last_number = Integer(default=0)


class Suggestion(Table, tablename="suggestion"):
    """A villager's suggestion of a topic, with its own chain (``suggestion_event``).

    ``title``, ``content`` and ``submitter_phone`` are the villager's own words and
    number, read by the office only; everyone else reads ``public_title`` and
    ``public_content``, written only from the masker's output (docs/decisions.md)."""

    id: Serial
    reference = Varchar(length=20, unique=True)
    township = ForeignKey(Township, on_delete=KEEP)
    village = ForeignKey(Village, on_delete=KEEP, null=True)
    """None: township-wide (filed by a liaison or the office)."""
    title = Varchar(length=200)
    content = Text()
    public_title = Varchar(length=200)
    public_content = Text()
    masks = Text(default="[]")
    """JSON ``[{field, kind, start, end, shown}]`` of the current revision."""
    revision = Integer(default=1)
    filed_by = ForeignKey(Account, on_delete=KEEP, null=True)
    """None: filed without an account."""
    entered_by = ForeignKey(Account, on_delete=KEEP, null=True)
    """The staff member who typed a paper suggestion in, on the villager's behalf."""
    submitter_name = Varchar(length=50, default="")
    submitter_phone = Varchar(length=20, default="")
    phone_digest = Varchar(length=64, default="")
    """Keyed digest of the normalised phone, counted by the filing limit."""
    client = Varchar(length=64, default="")
    status = Varchar(length=20, default="pending")
    """pending, must_list, accepted, merged, declined (docs/api.md)."""
    must_list_at = Timestamptz(null=True, default=None)
    must_list_rule = Varchar(length=20, null=True, default=None)
    """representatives or villagers: the rule that first held."""
    screening_due_on = Date(null=True, default=None)
    screening_due_provisional = Boolean(default=False)
    topic = ForeignKey(Topic, on_delete=KEEP, null=True, index=True)
    """The topic it became (accepted) or was merged into."""
    merged_into: ForeignKey[Suggestion] = ForeignKey("self", on_delete=KEEP, null=True)
    title_grams = Text(default="")
    event_seq = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class SuggestionSupport(Table, tablename="suggestion_support"):
    """One joint support (附议): the filer's own, a member's, or a paper sheet's names."""

    id: Serial
    suggestion = ForeignKey(Suggestion, on_delete=KEEP, index=True)
    kind = Varchar(length=20)
    """filer, account or paper."""
    account = ForeignKey(Account, on_delete=KEEP, null=True)
    standing = Varchar(length=20)
    """representative, cadre, liaison or villager, at the moment of support."""
    names = Text(default="[]")
    """A paper sheet's names (JSON list), never public."""
    headcount = Integer(default=1)
    """How many people it counts for: 1, or a paper sheet's names (``count`` is a
    table method in Piccolo, hence the name)."""
    sheet_note = Text(default="")
    entered_by = ForeignKey(Account, on_delete=KEEP, null=True)
    created_at = Timestamptz()


class SuggestionScreening(Table, tablename="suggestion_screening"):
    """The office's decision on a suggestion (one per suggestion)."""

    id: Serial
    suggestion = ForeignKey(Suggestion, on_delete=KEEP, unique=True)
    decision = Varchar(length=20)
    """accept, merge or decline."""
    reason = Text(default="")
    public_reason = Text(default="")
    ground = Text(default="")
    workflow_key = Varchar(length=40, null=True, default=None)
    workflow_version = Integer(null=True, default=None)
    topic = ForeignKey(Topic, on_delete=KEEP, null=True)
    merged_into = ForeignKey(Suggestion, on_delete=KEEP, null=True)
    screened_by = ForeignKey(Account, on_delete=KEEP)
    screened_at = Timestamptz()


class SuggestionRevision(Table, tablename="suggestion_revision"):
    """An earlier revision of a suggestion's public text, kept when it is corrected."""

    id: Serial
    suggestion = ForeignKey(Suggestion, on_delete=KEEP, index=True)
    revision = Integer()
    data = Text()
    reason = Text()
    created_by = ForeignKey(Account, on_delete=KEEP, null=True)
    created_at = Timestamptz()


class SuggestionEvent(Table, tablename="suggestion_event"):
    """The hash-chained history of one suggestion (as ``topic_event``; ``from_state``
    and ``to_state`` are its status)."""

    id: Serial
    suggestion = ForeignKey(Suggestion, on_delete=KEEP, index=True)
    seq = Integer()
    kind = Varchar(length=40)
    data = Text(default="{}")
    trigger = Varchar(length=40)
    from_state = Varchar(length=30, null=True, default=None)
    to_state = Varchar(length=30)
    actor = ForeignKey(Account, on_delete=KEEP, null=True)
    comment = Text()
    created_at = Timestamptz()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class SuggestionGramCount(Table, tablename="suggestion_gram_count"):
    """How many of a township's suggestions' titles contain each character bigram."""

    id: Serial
    township = ForeignKey(Township, on_delete=KEEP)
    gram = Varchar(length=8)
    n = Integer(default=0)


class SuggestionReminderSent(Table, tablename="suggestion_reminder_sent"):
    """A screening-deadline reminder already emitted: once per suggestion, kind, date."""

    id: Serial
    suggestion = ForeignKey(Suggestion, on_delete=KEEP)
    kind = Varchar(length=20)
    due_on = Date()
    created_at = Timestamptz()


class Plan(Table, tablename="plan"):
    """An annual plan series (a year's plan of a township, or of the county when
    ``township`` is None): it owns the chain (``plan_event``) of all its versions."""

    id: Serial
    year = Integer()
    township = ForeignKey(Township, on_delete=KEEP, null=True)
    reference = Varchar(length=60, unique=True)
    event_seq = Integer(default=0)
    created_at = Timestamptz()


class PlanVersion(Table, tablename="plan_version"):
    """One version of a plan: a draft, then published (frozen) and later superseded."""

    id: Serial
    plan = ForeignKey(Plan, on_delete=KEEP, index=True)
    version = Integer()
    status = Varchar(length=20, default="draft")
    """draft, published, superseded or discarded."""
    note = Text(default="")
    document = ForeignKey(Document, on_delete=KEEP, null=True)
    created_by = ForeignKey(Account, on_delete=KEEP)
    created_at = Timestamptz()
    published_by = ForeignKey(Account, on_delete=KEEP, null=True)
    published_at = Timestamptz(null=True, default=None)


class PlanItem(Table, tablename="plan_item"):
    """One line of a plan version."""

    id: Serial
    plan_version = ForeignKey(PlanVersion, on_delete=KEEP, index=True)
    position = Integer()
    quarter = Integer()
    title = Varchar(length=200)
    workflow_key = Varchar(length=40)
    lead_unit = Varchar(length=100)
    suggestion = ForeignKey(Suggestion, on_delete=KEEP, null=True, index=True)
    topic = ForeignKey(Topic, on_delete=KEEP, null=True, index=True)
    township = ForeignKey(Township, on_delete=KEEP, null=True)
    carried_from: ForeignKey[PlanItem] = ForeignKey("self", on_delete=KEEP, null=True)


class PlanEvent(Table, tablename="plan_event"):
    """The hash-chained history of one plan series (as ``topic_event``; ``from_state``
    and ``to_state`` are the status of its newest version)."""

    id: Serial
    plan = ForeignKey(Plan, on_delete=KEEP, index=True)
    seq = Integer()
    kind = Varchar(length=40)
    data = Text(default="{}")
    trigger = Varchar(length=40)
    from_state = Varchar(length=30, null=True, default=None)
    to_state = Varchar(length=30)
    actor = ForeignKey(Account, on_delete=KEEP, null=True)
    comment = Text()
    created_at = Timestamptz()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class CountyDocumentCounter(Table, tablename="county_document_counter"):
    """Last number given to a county document (the county's plan), per year."""

    id: Serial
    year = Integer(unique=True)
    last_number = Integer(default=0)


TABLES: tuple[type[Table], ...] = (
    Township,
    Village,
    Account,
    AuthSession,
    SecurityEvent,
    LoginFailure,
    ReferenceCounter,
    Topic,
    TopicGramCount,
    TopicEvent,
    Opinion,
    Investigation,
    SiteConsultation,
    Meeting,
    MeetingAttendee,
    ResolutionItem,
    ProgressReport,
    SatisfactionRating,
    Vote,
    NoteRecord,
    Document,
    RecordRevision,
    ChainKey,
    DocumentCounter,
    NoticeBoard,
    RosterVersion,
    ArchiveCounter,
    ArchiveItem,
    HolidaySchedule,
    Webhook,
    OutboxEvent,
    Delivery,
    ReminderSent,
    SuggestionCounter,
    Suggestion,
    SuggestionSupport,
    SuggestionScreening,
    SuggestionRevision,
    SuggestionEvent,
    SuggestionGramCount,
    SuggestionReminderSent,
    Plan,
    PlanVersion,
    PlanItem,
    PlanEvent,
    CountyDocumentCounter,
)
