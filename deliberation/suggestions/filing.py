"""Filing a suggestion (议题建议): by a villager without an account (name, mobile
number, village), by a member signed in, or by the office on a villager's behalf.

The text is masked here, at write time (``deliberation.masking``): the ``public_*``
columns hold only the masker's output. Filing is one write transaction: the limits are
counted and the row written in one serialised step (``deliberation.throttle``), so forty
posts sent at once file exactly as many as the limit allows; the rows counted are the
suggestions themselves (docs/decisions.md "Suggestions: filing limits").
"""

from __future__ import annotations

import hmac
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deliberation import chain, changes, throttle
from deliberation.clock import china_today, utcnow
from deliberation.errors import RateLimited, ValidationFailed
from deliberation.masking import FULL_WIDTH, mask_fields
from deliberation.owned_records import content_of as owned_content
from deliberation.permissions import SuggestionSubject, allowed_suggestion
from deliberation.search import count_suggestion_grams, title_grams
from deliberation.security import Principal
from deliberation.suggestions import support as _support
from deliberation.suggestions.schemas import (
    SuggestionCreate,
    SuggestionCreated,
    SuggestionPatch,
)
from deliberation.tables import (
    Account,
    Suggestion,
    SuggestionCounter,
    SuggestionRevision,
    SuggestionSupport,
    Village,
)

MOBILE = re.compile(r"1[3-9][0-9]{9}")

STANDING = {
    "representative": "representative",
    "village_cadre": "cadre",
    "liaison": "liaison",
}
"""The filer's standing as a supporter (``suggestion_support.standing``); a villager
without an account, or one the office files for, is a ``villager``."""
STANDING_IN_VILLAGE = ("representative", "village_cadre")
"""Roles whose suggestion is of their own village when they name none."""


@dataclass(frozen=True, slots=True)
class SuggestionLimits:
    """How many suggestions may be filed (``api/settings.py``): per client address
    (anonymous filings), per phone number and per signed-in account."""

    per_client: int = 10
    client_window_seconds: int = 3600
    per_phone: int = 3
    phone_window_seconds: int = 24 * 3600
    per_account: int = 20
    account_window_seconds: int = 24 * 3600


def normalised_phone(raw: str) -> str | None:
    """The 11 digits of a mainland mobile number written any usual way (``+86``,
    spaces, dashes, full-width digits); None if it is not one."""
    # Full-width brackets by code point (\uff08 \uff09), so the pattern reads as code.
    text = re.sub(r"[\s\-()\uff08\uff09]", "", raw.translate(FULL_WIDTH))
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix) :]
            break
    return text if MOBILE.fullmatch(text) else None


def phone_digest(phone: str) -> str:
    """A keyed digest of the normalised number: what the per-phone limit counts (the
    number itself is kept for the office only)."""
    return hmac.new(chain.current_key(), b"hsl phone\n" + phone.encode(), "sha256").hexdigest()


async def _next_reference(year: int) -> str:
    rows = await SuggestionCounter.raw(
        "INSERT INTO suggestion_counter (year, last_number) VALUES ({}, 1) "
        "ON CONFLICT (year) DO UPDATE SET last_number = suggestion_counter.last_number + 1 "
        "RETURNING last_number",
        year,
    )
    return f"JY-{year}-{rows[0]['last_number']:04d}"


async def _refuse_past(condition: Any, limit: int, window_seconds: int, now: datetime) -> None:
    """429 when ``limit`` suggestions matching ``condition`` were filed within the
    window; ``Retry-After``: when the oldest of those that must leave has left it."""
    window = timedelta(seconds=window_seconds)
    rows = (
        await Suggestion.select(Suggestion.created_at)
        .where(condition & (Suggestion.created_at > now - window))
        .order_by(Suggestion.created_at)
    )
    if len(rows) < limit:
        return
    oldest = rows[len(rows) - limit]["created_at"]
    seconds = throttle.retry_after(oldest, window, now)
    raise RateLimited(
        f"提交太频繁，请 {math.ceil(seconds / 60)} 分钟后再试。",
        retry_after=seconds,
    )


def _input_errors(
    principal: Principal | None, data: SuggestionCreate
) -> tuple[list[dict[str, str]], str, str | None]:
    """What is wrong with who-filed-it (422 items), the filer's name and the phone."""
    errors: list[dict[str, str]] = []
    name = (data.submitter_name or "").strip()
    phone: str | None = None
    on_behalf = principal is not None and principal.role == "staff"
    if principal is None or on_behalf:
        if not name:
            errors.append({"field": "submitter_name", "message": "请填写姓名"})
        if data.submitter_phone is None:
            errors.append({"field": "submitter_phone", "message": "请填写手机号码"})
        else:
            phone = normalised_phone(data.submitter_phone)
            if phone is None:
                errors.append(
                    {"field": "submitter_phone", "message": "请填写11位手机号码，如 13800000000"}
                )
        if principal is None and data.village_id is None:
            errors.append({"field": "village_id", "message": "请选择所在的村（社区）"})
    else:
        for field in ("submitter_name", "submitter_phone"):
            if getattr(data, field) is not None:
                errors.append({"field": field, "message": "登录后提交无需填写：提出人即本账号"})
    return errors, name, phone


async def file_suggestion(
    principal: Principal | None,
    data: SuggestionCreate,
    client: str,
    limits: SuggestionLimits,
    *,
    now: datetime | None = None,
) -> SuggestionCreated:
    """File a suggestion (201 ``{id, reference, status}``), or change nothing.

    Order: the filer's fields (422), the village (422), who may file there (403), then
    the limits (429) and the write, in one serialised step."""
    errors, name, phone = _input_errors(principal, data)
    village_id = data.village_id
    if village_id is None and principal is not None and principal.role in STANDING_IN_VILLAGE:
        village_id = principal.village_id  # a village's representative or cadre: theirs
    village: dict[str, Any] | None = None
    if village_id is not None:
        village = (
            await Village.select(Village.id, Village.township)
            .where(Village.id == village_id)
            .first()
        )
        if village is None:
            errors.append({"field": "village_id", "message": "没有这个村（社区）"})
    if errors:
        raise ValidationFailed(errors)
    township_id: int | None = (
        village["township"]
        if village is not None
        else (principal.township_id if principal is not None else None)
    )
    subject = SuggestionSubject.place(township_id, village_id)
    allowed_suggestion(principal, "suggestion.file", subject).check()
    assert township_id is not None  # the policy lets no one file outside a township
    if principal is not None and principal.role != "staff":
        account = await Account.select(Account.display_name).where(Account.id == principal.id)
        name = account[0]["display_name"] if account else ""
    title, content = data.title.strip(), data.content.strip()
    public, masks, _flags = mask_fields({"title": title, "content": content}, name or None)
    digest = phone_digest(phone) if phone else ""
    now = now or utcnow()
    client = client[:64]
    grams = title_grams(public["title"])
    async with changes.suggestion_filed(principal) as change:
        if principal is None:
            await throttle.serialise(f"suggest:client:{client}", f"suggest:phone:{digest}")
            anonymous = Suggestion.filed_by.is_null() & Suggestion.entered_by.is_null()
            await _refuse_past(
                anonymous & (Suggestion.client == client),
                limits.per_client,
                limits.client_window_seconds,
                now,
            )
        else:
            keys = [f"suggest:account:{principal.id}"] + (
                [f"suggest:phone:{digest}"] * bool(digest)
            )
            await throttle.serialise(*keys)
            by = Suggestion.entered_by if principal.role == "staff" else Suggestion.filed_by
            await _refuse_past(
                by == principal.id, limits.per_account, limits.account_window_seconds, now
            )
        if digest:
            await _refuse_past(
                Suggestion.phone_digest == digest,
                limits.per_phone,
                limits.phone_window_seconds,
                now,
            )
        reference = await _next_reference(china_today(now).year)
        on_behalf = principal is not None and principal.role == "staff"
        row: dict[str, Any] = {
            "reference": reference,
            "township": township_id,
            "village": village_id,
            "title": title,
            "content": content,
            "public_title": public["title"],
            "public_content": public["content"],
            "masks": json.dumps([m.as_dict() for m in masks], ensure_ascii=False),
            "revision": 1,
            "filed_by": principal.id if principal is not None and not on_behalf else None,
            "entered_by": principal.id if on_behalf and principal is not None else None,
            "submitter_name": name if principal is None or on_behalf else "",
            "submitter_phone": phone or "",
            "phone_digest": digest,
            "client": client,
            "status": "pending",
            "title_grams": grams,
            "event_seq": 1,
            "created_at": now,
            "updated_at": now,
        }
        inserted = await Suggestion.insert(Suggestion(**row)).returning(Suggestion.id)
        row["id"] = suggestion_id = inserted[0]["id"]
        await count_suggestion_grams(township_id, grams.split())
        change.owner = row
        role = principal.role if principal is not None and not on_behalf else "villager"
        await change.started(
            "suggestion.filed",
            "suggestion",
            suggestion_id,
            to_state="pending",
            now=now,
            told={"filed_by_role": role},
        )
        # The filer's own support: counted toward the village's rules as any other
        # (deliberation/suggestions/threshold.py decides what counts toward which).
        support = await SuggestionSupport.insert(
            SuggestionSupport(
                suggestion=suggestion_id,
                kind="filer",
                account=row["filed_by"],
                standing=STANDING.get(role, "villager"),
                names="[]",
                headcount=1,
                sheet_note="",
                entered_by=row["entered_by"],
                created_at=now,
            )
        ).returning(SuggestionSupport.id)
        await change.vouched(
            "support.added",
            "suggestion_support",
            support[0]["id"],
            from_state="pending",
            to_state="pending",
            now=now,
        )
        # The filer's support may already meet a rule (a village of one representative:
        # 1 × 5 ≥ 1): counted now, in the same unit of work, as any support is.
        tallied = await _support.recount(change, now)
    return SuggestionCreated(id=row["id"], reference=reference, status=tallied.status)


async def correct_suggestion(
    principal: Principal, suggestion_id: int, data: SuggestionPatch, *, now: datetime | None = None
) -> None:
    """The office corrects the public text (where masking missed something or masked
    too much): the new text is masked again, the previous public text is kept as a
    revision, and ``suggestion.corrected`` carries the reason (docs/decisions.md)."""
    fields = {
        name: value.strip()
        for name, value in (("title", data.public_title), ("content", data.public_content))
        if isinstance(value, str)
    }
    if not fields:
        raise ValidationFailed([{"field": "public_content", "message": "请填写更正后的标题或内容"}])
    reason = data.reason.strip()
    now = now or utcnow()
    async with changes.suggestion_change(principal, suggestion_id, "suggestion.correct") as change:
        row = change.owner
        before = owned_content("suggestion", row)
        name = row["submitter_name"]
        if row["filed_by"] is not None:
            account = await Account.select(Account.display_name).where(
                Account.id == row["filed_by"]
            )
            name = account[0]["display_name"] if account else name
        public, masks, _flags = mask_fields(fields, name or None)
        kept = [m for m in json.loads(row["masks"]) if m["field"] not in fields]
        all_masks = kept + [m.as_dict() for m in masks]
        await SuggestionRevision.insert(
            SuggestionRevision(
                suggestion=suggestion_id,
                revision=row["revision"],
                data=json.dumps(
                    {
                        "public_title": row["public_title"],
                        "public_content": row["public_content"],
                        "masks": json.loads(row["masks"]),
                    },
                    ensure_ascii=False,
                ),
                reason=reason,
                created_by=principal.id,
                created_at=now,
            )
        )
        values: dict[Any, Any] = {
            Suggestion.masks: json.dumps(all_masks, ensure_ascii=False),
            Suggestion.revision: row["revision"] + 1,
            Suggestion.updated_at: now,
        }
        if "title" in public:
            values[Suggestion.public_title] = public["title"]
            values[Suggestion.title_grams] = title_grams(public["title"])
        if "content" in public:
            values[Suggestion.public_content] = public["content"]
        await Suggestion.update(values).where(Suggestion.id == suggestion_id)
        await change.vouched(
            "suggestion.corrected",
            "suggestion",
            suggestion_id,
            before=before,
            comment=reason,
            from_state=row["status"],
            to_state=row["status"],
            now=now,
        )
