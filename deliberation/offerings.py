"""Which workflows a township and a village offer (docs/workflows.md, "Which workflows a
township offers").

A township offers workflows of scope ``township``, a village those of scope ``village``
(四议两公开 is a village's own process). The administrator chooses them; until then a
place offers every loaded workflow of its scope (docs/decisions.md, "Which workflows a
place offers: everything loaded, until chosen"). A topic may be opened only in a
workflow its township (or, for a village-scope one, its village) offers, and only by a
role the workflow names among its openers (the policy's ``topic.open``).

Stored per place as a JSON list of keys (``offered_workflows``, migration 0021); NULL
is "not chosen". A chosen key whose file is no longer loaded is simply not offered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from deliberation.errors import ValidationFailed
from deliberation.permissions import Subject, allowed
from deliberation.pinning import loaded
from deliberation.schemas import OfferedWorkflow
from deliberation.security import Principal
from deliberation.tables import Township, Village
from workflows.declaration import Workflow

PlaceScope = Literal["township", "village"]

SCOPE_WORDS: dict[str, str] = {"township": "乡镇级", "village": "村级"}
PLACE_WORDS: dict[str, str] = {"township": "乡镇", "village": "村（社区）"}


def of_scope(scope: PlaceScope) -> list[Workflow]:
    """The newest version of every loaded workflow of ``scope``, in file order: what a
    place of that scope may offer (the admin page's checkboxes)."""
    return [w for w in loaded().newest() if w.scope == scope]


def named(workflows: Sequence[Workflow]) -> str:
    """``standard（标准协商）、…`` for a message."""
    return "、".join(f"{w.key}（{w.label}）" for w in workflows)


def offered_keys(stored: str | None, scope: PlaceScope) -> list[str]:
    """The keys a place offers, from its stored column: every loaded workflow of its
    scope while the administrator has not chosen (NULL), else the chosen ones still
    loaded, in file order."""
    keys = [w.key for w in of_scope(scope)]
    if stored is None:
        return keys
    chosen = set(json.loads(stored))
    return [k for k in keys if k in chosen]


def stored(keys: Sequence[str], scope: PlaceScope) -> str:
    """The column's value for an administrator's choice, checked: every key a loaded
    workflow of ``scope``, duplicates dropped, in file order. Any other key is a 422
    naming it; a township must keep at least one workflow (else no topic could be
    opened there), a village may offer none."""
    registry = loaded()
    errors = []
    for key in dict.fromkeys(keys):
        try:
            workflow = registry.latest(key)
        except KeyError:
            errors.append(
                {
                    "field": "workflows",
                    "message": f"没有这个工作流程：{key}；可选：{named(of_scope(scope))}",
                }
            )
            continue
        if workflow.scope != scope:
            errors.append(
                {
                    "field": "workflows",
                    "message": f"“{workflow.label}”（{key}）是{SCOPE_WORDS[workflow.scope]}"
                    f"流程，不能由{PLACE_WORDS[scope]}提供",
                }
            )
    if not errors and scope == "township" and not keys and of_scope(scope):
        errors.append({"field": "workflows", "message": "乡镇至少要提供一种协商流程"})
    if errors:
        raise ValidationFailed(errors)
    chosen = set(keys)
    return json.dumps([w.key for w in of_scope(scope) if w.key in chosen])


def _may_open(principal: Principal, workflow: Workflow) -> bool:
    opened_in = replace(Subject.township(principal.township_id), workflow=workflow)
    return bool(allowed(principal, "topic.open", opened_in))


async def offered_to(principal: Principal) -> list[OfferedWorkflow]:
    """The workflows ``principal`` may open a topic in now: offered by their township
    (or by some of its villages) and naming their role among the openers."""
    if principal.township_id is None:
        return []
    township = (
        await Township.select(Township.offered_workflows)
        .where(Township.id == principal.township_id)
        .first()
    )
    if township is None:
        return []
    villages = (
        await Village.select(Village.id, Village.offered_workflows)
        .where(Village.township == principal.township_id)
        .order_by(Village.id)
    )
    by_township = offered_keys(township["offered_workflows"], "township")
    found = []
    for workflow in loaded().newest():
        if not _may_open(principal, workflow):
            continue
        village_ids: list[int] | None = None
        if workflow.scope == "village":
            village_ids = [
                v["id"]
                for v in villages
                if workflow.key in offered_keys(v["offered_workflows"], "village")
            ]
            if not village_ids:
                continue
        elif workflow.key not in by_township:
            continue
        found.append(
            OfferedWorkflow(
                key=workflow.key,
                version=workflow.version,
                label=workflow.label,
                summary=workflow.summary,
                scope=workflow.scope,
                village_ids=village_ids,
            )
        )
    return found


async def check_opening(principal: Principal, workflow: Workflow, village_id: int | None) -> None:
    """Refuse (422, nothing written) a topic in a workflow its place does not offer, or
    a village-scope one without a village. Called inside the opening's transaction,
    after the village is known to be of the opener's township."""
    if workflow.scope == "village" and village_id is None:
        raise ValidationFailed(
            [
                {
                    "field": "village_id",
                    "message": f"“{workflow.label}”是村级流程，请选择所属村（社区）",
                }
            ]
        )
    if workflow.scope == "village":
        row = (
            await Village.select(Village.offered_workflows).where(Village.id == village_id).first()
        )
        here = "该村（社区）"
    else:
        row = (
            await Township.select(Township.offered_workflows)
            .where(Township.id == principal.township_id)
            .first()
        )
        here = "本乡镇"
    if row is not None and workflow.key in offered_keys(row["offered_workflows"], workflow.scope):
        return
    offers = await offered_to(principal)
    usable = [o for o in offers if o.village_ids is None or village_id in (o.village_ids or [])]
    choices = "、".join(f"{o.key}（{o.label}）" for o in usable) or "无，请联系系统管理员"
    raise ValidationFailed(
        [
            {
                "field": "workflow",
                "message": f"{here}未提供“{workflow.label}”流程；可选：{choices}",
            }
        ]
    )


__all__ = ["check_opening", "of_scope", "offered_keys", "offered_to", "stored"]
