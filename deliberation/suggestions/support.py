"""Joint support (附议) of a villager's suggestion, and the moment it must be listed.

Two ways to support, both in one unit of work on the suggestion (its row locked, the
policy decided on it, the chain event appended):

- **one's own** (``{}``): a representative of the suggestion's village (or any village,
  for a township-wide one) or a liaison of the township, once per account (a second is
  409 ``already_supported``);
- **on paper** (``{on_behalf_of: [names], sheet_note}``): the names a representative
  (own village) or the office collected on a sheet, typed in on their behalf. The names
  are kept for the office, never shown publicly; they count toward the villagers' rule.

After every support (and a merge that carries supports) the tally is counted again in
the same transaction (:mod:`deliberation.suggestions.threshold`). The first time a rule
holds the suggestion becomes ``must_list`` for good, its screening deadline is set
``screening_working_days`` Chinese working days ahead, and ``suggestion.must_list`` goes
on its chain and to the township's webhooks.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from deliberation.changes import OwnedChange, suggestion_change
from deliberation.clock import china_date, utcnow
from deliberation.errors import AlreadySupported, ValidationFailed
from deliberation.permissions import SuggestionAction
from deliberation.schemas import Input, Name
from deliberation.security import Principal
from deliberation.suggestions import threshold
from deliberation.tables import Account, Suggestion, SuggestionSupport, Township, Village
from deliberation.workdays import working_days

MAX_PAPER_NAMES = 500
"""Names typed from one sheet (a village of a few thousand fills several sheets)."""

SheetNote = Annotated[str, Meta(max_length=200)]


class SupportCreate(Input):
    """``{}``: the caller's own support. ``on_behalf_of``: names collected on paper."""

    on_behalf_of: Annotated[list[Name], Meta(min_length=1, max_length=MAX_PAPER_NAMES)] | None = (
        None
    )
    """One name a line, as on the sheet (never shown publicly)."""
    sheet_note: SheetNote = ""
    """Where the sheet is kept, who collected it (for the office)."""


class SupportRead(Struct, kw_only=True):
    """The suggestion's tally after the support."""

    supports: int
    """Everyone counted or shown: representatives, villagers, liaisons."""
    representatives: int
    villagers: int
    liaisons: int
    """Shown (委员附议), counted toward neither rule."""
    status: Literal["pending", "must_list"]
    needed: int | None
    """More supports the nearest rule wants (0 once met; None: no rule applies)."""
    screening_due_on: date | None = None
    screening_due_provisional: bool = False


STANDINGS = {
    "representative": "representative",
    "village_cadre": "cadre",
    "liaison": "liaison",
}
"""The standing a signed-in supporter's role gives (what the support counts toward)."""


async def support(principal: Principal, suggestion_id: int, data: SupportCreate) -> SupportRead:
    """The caller's own support, or the names of a paper sheet (see the module)."""
    now = utcnow()
    paper = data.on_behalf_of is not None
    action: SuggestionAction = "suggestion.enter_supports" if paper else "suggestion.support"
    if not paper and data.sheet_note.strip():
        raise ValidationFailed(
            [{"field": "on_behalf_of", "message": "填写签名表说明时，请同时录入签名表上的姓名"}]
        )
    async with suggestion_change(principal, suggestion_id, action) as change:
        if paper:
            assert data.on_behalf_of is not None
            names = _names(data.on_behalf_of)
            row = SuggestionSupport(
                suggestion=suggestion_id,
                kind="paper",
                account=None,
                standing="villager",
                names=json.dumps(names, ensure_ascii=False),
                headcount=len(names),
                sheet_note=data.sheet_note.strip(),
                entered_by=principal.id,
                created_at=now,
            )
        else:
            if await SuggestionSupport.exists().where(
                (SuggestionSupport.suggestion == suggestion_id)
                & (SuggestionSupport.account == principal.id)
            ):
                raise AlreadySupported("您已附议过这条建议，每人只能附议一次")
            row = SuggestionSupport(
                suggestion=suggestion_id,
                kind="account",
                account=principal.id,
                standing=STANDINGS.get(principal.role, "villager"),
                names="[]",
                headcount=1,
                sheet_note="",
                entered_by=None,
                created_at=now,
            )
        inserted = await SuggestionSupport.insert(row)
        await change.vouched("support.added", "suggestion_support", inserted[0]["id"], now=now)
        tally = await recount(change, now)
    return tally


def _names(names: list[str]) -> list[str]:
    cleaned = [n.strip() for n in names]
    repeated = sorted({n for n in cleaned if cleaned.count(n) > 1})
    if repeated:
        raise ValidationFailed(
            [{"field": "on_behalf_of", "message": f"姓名重复：{'、'.join(repeated)}"}]
        )
    return cleaned


async def tally_of(suggestion: dict[str, Any]) -> threshold.Tally:
    """The suggestion's supports as the rules count them (read inside the transaction).
    A villager who filed without an account (or whom the office filed for) is one
    villager, whether or not a filer's support row stands for them."""
    rows = await SuggestionSupport.select(
        SuggestionSupport.kind,
        SuggestionSupport.standing,
        SuggestionSupport.account,
        SuggestionSupport.headcount,
    ).where(SuggestionSupport.suggestion == suggestion["id"])
    representatives: set[int] = set()
    villagers = liaisons = 0
    for row in rows:
        if row["standing"] == "liaison":
            liaisons += int(row["headcount"])
            continue
        if row["standing"] == "representative" and row["account"] is not None:
            representatives.add(row["account"])
        villagers += int(row["headcount"])
    if suggestion["filed_by"] is None and not any(r["kind"] == "filer" for r in rows):
        villagers += 1
    return threshold.Tally(
        representatives=len(representatives), villagers=villagers, liaisons=liaisons
    )


async def settings_of(suggestion: dict[str, Any]) -> threshold.Settings:
    """The township's divisors and the village's rosters, now. A township-wide
    suggestion (no village) has no roster: it never obliges."""
    township = (
        await Township.select(
            Township.threshold_representatives_divisor, Township.threshold_villagers_divisor
        )
        .where(Township.id == suggestion["township"])
        .first()
    )
    assert township is not None
    village_id = suggestion["village"]
    representatives, registered = 0, None
    if village_id is not None:
        representatives = await Account.count().where(
            (Account.village == village_id)
            & (Account.role == "representative")
            & (Account.active == True)  # noqa: E712
        )
        village = (
            await Village.select(Village.registered_villagers)
            .where(Village.id == village_id)
            .first()
        )
        registered = village["registered_villagers"] if village else None
    return threshold.Settings(
        representatives=representatives,
        registered_villagers=registered,
        representatives_divisor=township["threshold_representatives_divisor"],
        villagers_divisor=township["threshold_villagers_divisor"],
    )


async def recount(change: OwnedChange, now: datetime) -> SupportRead:
    """Count the locked suggestion's supports again; the first time a rule holds, it must
    be listed (see the module). The tally as it stands afterwards."""
    suggestion = change.owner
    tally = await tally_of(suggestion)
    settings = await settings_of(suggestion)
    if suggestion["status"] == "pending":
        hit = threshold.reached(tally, settings)
        if hit is not None:
            await must_list(change, hit, now)
    return SupportRead(
        supports=tally.total,
        representatives=tally.representatives,
        villagers=tally.villagers,
        liaisons=tally.liaisons,
        status=change.owner["status"],  # a screened one takes no support
        needed=threshold.still_needed(tally, settings),
        screening_due_on=change.owner.get("screening_due_on"),
        screening_due_provisional=bool(change.owner.get("screening_due_provisional")),
    )


async def must_list(change: OwnedChange, hit: threshold.Reached, now: datetime) -> None:
    """须列入议题: set once, with the screening deadline in working days from today.
    Only inside the suggestion's unit of work (``change``), from :func:`recount`."""
    suggestion = change.owner
    days = (
        await Township.select(Township.screening_working_days)
        .where(Township.id == suggestion["township"])
        .first()
    )
    assert days is not None
    due = (await working_days()).add(china_date(now), int(days["screening_working_days"]))
    await Suggestion.update(
        {
            Suggestion.status: "must_list",
            Suggestion.must_list_at: now,
            Suggestion.must_list_rule: hit.rule,
            Suggestion.screening_due_on: due.day,
            Suggestion.screening_due_provisional: due.provisional,
            Suggestion.updated_at: now,
        }
    ).where(Suggestion.id == suggestion["id"])
    suggestion.update(
        status="must_list",
        must_list_at=now,
        must_list_rule=hit.rule,
        screening_due_on=due.day,
        screening_due_provisional=due.provisional,
    )
    figures = {
        **dataclasses.asdict(hit),
        "screening_due_on": due.day.isoformat(),
        "screening_due_provisional": due.provisional,
    }
    await change.vouched(
        "suggestion.must_list",
        "suggestion",
        suggestion["id"],
        data=figures,
        from_state="pending",
        to_state="must_list",
        now=now,
        told={**figures, "due_on": due.day.isoformat()},
        as_actor=False,
    )
