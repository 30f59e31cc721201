"""Reading suggestions, as far as the caller may (docs/permissions.md, "Suggestions and
plans"): the office reads the villager's own words (:func:`office_view`); everyone else
reads the masked ``public_*`` twins; the public reads screened suggestions only, and a
pending one is a 404 to anyone outside its place.

``office_view`` is the one reader of ``Suggestion.title``, ``.content`` and
``.submitter_phone`` (tests/deliberation/test_suggestion_reads.py walks the code for
any other)."""

from __future__ import annotations

import json
from typing import Any

from piccolo.columns.combination import WhereRaw

from deliberation.database import is_sqlite
from deliberation.errors import NotFound, Unauthenticated, ValidationFailed
from deliberation.masking import mask_fields
from deliberation.paging import Page, Window, keyed, page_of
from deliberation.permissions import (
    SUGGESTION_STATUS_LABELS,
    SUGGESTION_STATUSES,
    SuggestionSubject,
    allowed_suggestion,
    scope,
)
from deliberation.scoping import suggestion_conditions
from deliberation.search import normalise
from deliberation.security import Principal
from deliberation.suggestions.schemas import (
    FlagRead,
    MaskRead,
    OriginalText,
    SubmitterRead,
    SuggestionEventRead,
    SuggestionPage,
    SuggestionRead,
    View,
)
from deliberation.tables import Account, Suggestion, SuggestionEvent, SuggestionSupport
from deliberation.topics import valid_id

PUBLIC_COLUMNS = (
    Suggestion.id,
    Suggestion.reference,
    Suggestion.township,
    Suggestion.village,
    Suggestion.public_title,
    Suggestion.public_content,
    Suggestion.status,
    Suggestion.filed_by,
    Suggestion.screening_due_on,
    Suggestion.must_list_at,
    Suggestion.topic,
    Suggestion.revision,
    Suggestion.created_at,
    Suggestion.updated_at,
)
"""What a read of a suggestion takes from its row: never the villager's own words or
number (those are read by :func:`office_view` alone)."""

NOT_FOUND = "建议不存在"


def subject_of(row: dict[str, Any]) -> SuggestionSubject:
    return SuggestionSubject.of_suggestion(row)


def view_of(principal: Principal | None, row: dict[str, Any]) -> View | None:
    """How much of the suggestion the caller reads; None: not at all (404)."""
    decision = allowed_suggestion(principal, "suggestion.read", subject_of(row))
    if not decision:
        return None
    view = decision.view
    if view in ("full", "office"):
        return "office"
    if view in ("own", "masked", "public"):
        return view  # type: ignore[return-value]
    return None


async def _supports(ids: list[int]) -> dict[int, tuple[int, int]]:
    """(all supports, representatives') of each suggestion."""
    counts: dict[int, tuple[int, int]] = dict.fromkeys(ids, (0, 0))
    if not ids:
        return counts
    rows = await SuggestionSupport.select(
        SuggestionSupport.suggestion, SuggestionSupport.standing, SuggestionSupport.headcount
    ).where(SuggestionSupport.suggestion.is_in(ids))
    for row in rows:
        total, representatives = counts[row["suggestion"]]
        n = int(row["headcount"])
        counts[row["suggestion"]] = (
            total + n,
            representatives + (n if row["standing"] == "representative" else 0),
        )
    return counts


def suggestion_read(row: dict[str, Any], view: View, supports: tuple[int, int]) -> SuggestionRead:
    return SuggestionRead(
        id=row["id"],
        reference=row["reference"],
        township_id=row["township"],
        village_id=row["village"],
        title=row["public_title"],
        content=row["public_content"],
        status=row["status"],
        status_label=SUGGESTION_STATUS_LABELS.get(row["status"], row["status"]),
        supports=supports[0],
        supports_representatives=supports[1],
        screening_due_on=row["screening_due_on"],
        must_list_at=row["must_list_at"],
        topic_id=row["topic"],
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        view=view,
    )


async def office_view(read: SuggestionRead) -> SuggestionRead:
    """The office's view: the original text with what was masked in it, what to check
    (请核对, found again from the original: masking is pure) and who filed it. After a
    correction, ``masks`` are those of the corrected public text."""
    row = (
        await Suggestion.select(
            Suggestion.title,
            Suggestion.content,
            Suggestion.masks,
            Suggestion.submitter_name,
            Suggestion.submitter_phone,
            Suggestion.filed_by,
            Suggestion.entered_by,
        )
        .where(Suggestion.id == read.id)
        .first()
    )
    if row is None:
        raise NotFound(NOT_FOUND)
    name = row["submitter_name"]
    if row["filed_by"] is not None:
        account = await Account.select(Account.display_name).where(Account.id == row["filed_by"])
        name = account[0]["display_name"] if account else name
    _texts, _masks, flags = mask_fields(
        {"title": row["title"], "content": row["content"]}, name or None
    )
    read.original = OriginalText(title=row["title"], content=row["content"])
    read.masks = [MaskRead(**m) for m in json.loads(row["masks"])]
    read.flags = [FlagRead(**f.as_dict()) for f in flags]
    read.submitter = SubmitterRead(
        name=row["submitter_name"],
        phone=row["submitter_phone"],
        filed_by=row["filed_by"],
        entered_by=row["entered_by"],
    )
    return read


async def visible_suggestion(
    principal: Principal | None, suggestion_id: int
) -> tuple[dict[str, Any], View]:
    """The suggestion's readable row and the caller's view of it (404 otherwise: one
    answer whether it does not exist or is not theirs to see)."""
    if not valid_id(suggestion_id):  # before the query: PostgreSQL refuses an id past 2**31
        raise NotFound(NOT_FOUND)
    row = await Suggestion.select(*PUBLIC_COLUMNS).where(Suggestion.id == suggestion_id).first()
    view = view_of(principal, row) if row is not None else None
    if row is None or view is None:
        raise NotFound(NOT_FOUND)
    return row, view


async def get_suggestion(principal: Principal | None, suggestion_id: int) -> SuggestionRead:
    row, view = await visible_suggestion(principal, suggestion_id)
    read = suggestion_read(row, view, (await _supports([row["id"]]))[row["id"]])
    return await office_view(read) if view == "office" else read


async def list_suggestions(
    principal: Principal | None,
    *,
    township_id: int | None = None,
    village_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
    mine: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> SuggestionPage:
    """Suggestions the caller may list, the latest changed first: the public screened
    ones of every township (or of ``township_id``); members those of their scope."""
    if status is not None and status not in SUGGESTION_STATUSES:
        raise ValidationFailed(
            [{"field": "status", "message": f"可选的状态：{'、'.join(SUGGESTION_STATUSES)}"}]
        )
    if mine and principal is None:
        raise Unauthenticated("登录后才能查看自己提出的建议")
    seen = scope(principal, "suggestion.list").check()
    if township_id is not None and not seen.covers(township_id):
        seen = scope(None, "suggestion.list")  # another township: what the public sees
    conditions: list[Any] = suggestion_conditions(seen, township_id)
    if village_id is not None:
        conditions.append(Suggestion.village == village_id)
    if status is not None:
        conditions.append(Suggestion.status == status)
    if mine and principal is not None:
        conditions.append(Suggestion.filed_by == principal.id)
    if q:
        needle = normalise(q.strip())
        function = "instr" if is_sqlite(Suggestion._meta.db) else "strpos"
        conditions.append(
            WhereRaw(
                f"({function}(lower(public_title), {{}}) > 0 "
                f"OR {function}(lower(public_content), {{}}) > 0)",
                needle,
                needle,
            )
        )
    # The page's ids first, in the order of ``suggestion_updated_ix`` (a deep page skips
    # index entries, not rows), then their rows; the total is counted only when the
    # page does not tell it (docs/benchmarks.md, "issue 27: similar titles and the
    # suggestions page").
    ids = [
        r["id"]
        for r in await Suggestion.select(Suggestion.id)
        .where(*conditions)
        .order_by(Suggestion.updated_at, ascending=False)
        .order_by(Suggestion.id, ascending=False)
        .limit(limit)
        .offset(offset)
    ]
    found = (
        {
            r["id"]: r
            for r in await Suggestion.select(*PUBLIC_COLUMNS).where(Suggestion.id.is_in(ids))
        }
        if ids
        else {}
    )
    rows = [found[i] for i in ids if i in found]
    if len(ids) < limit and (ids or offset == 0):
        total = offset + len(ids)  # the last page: nothing after it
    else:
        total = await Suggestion.count().where(*conditions)
    supports = await _supports([r["id"] for r in rows])
    items: list[SuggestionRead] = []
    for row in rows:
        view = view_of(principal, row)
        if view is None:  # the conditions and the policy disagree: the policy decides
            total -= 1
            continue
        items.append(
            suggestion_read(row, "masked" if view == "office" else view, supports[row["id"]])
        )
    return SuggestionPage(items=items, total=total, limit=limit, offset=offset)


async def list_events(principal: Principal | None, suggestion_id: int) -> list[SuggestionEventRead]:
    """The suggestion's chain, oldest first. Below the office's view: no data, reasons
    or actors (a public timeline names roles, never people)."""
    page = await page_events(principal, suggestion_id, Window.everything())
    return page.items


async def page_events(
    principal: Principal | None, suggestion_id: int, window: Window
) -> Page[SuggestionEventRead]:
    """A page of ``list_events``, by seq (docs/decisions.md, "Paged lists")."""
    _row, view = await visible_suggestion(principal, suggestion_id)
    full = view == "office"
    query = SuggestionEvent.select().where(SuggestionEvent.suggestion == suggestion_id)
    rows = await keyed(query, SuggestionEvent.seq, window)
    return page_of(rows, window, lambda r: int(r["seq"])).map(
        lambda chosen: [
            SuggestionEventRead(
                seq=r["seq"],
                kind=r["kind"],
                data=json.loads(r["data"]) if full else {},
                from_state=r["from_state"],
                to_state=r["to_state"],
                actor_id=r["actor"] if full else None,
                comment=r["comment"] if full else "",
                created_at=r["created_at"],
                prev_hash=r["prev_hash"],
                hash=r["hash"],
            )
            for r in chosen
        ]
    )
