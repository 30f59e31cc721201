"""The policy's scopes (``deliberation.permissions.Scope``) as the queries' conditions.

Which rows a list shows a person is the policy's answer (``scope(principal, what)``);
this module only turns that answer into ``where`` clauses, so no list decides by role.
"""

from __future__ import annotations

from typing import Any

from deliberation.permissions import SCREENED_STATUSES, Scope
from deliberation.tables import Opinion, Suggestion, Topic


def township_conditions(scope: Scope, column: Any) -> list[Any]:
    """Rows whose township (``column``) is in the scope: no condition for every
    township. A scope of nothing has no rows: the caller asks first (``bool(scope)``)."""
    if not scope:
        raise ValueError("a scope of nothing has no rows: ask bool(scope) first")
    return [] if scope.everywhere else [column == scope.township_id]


async def topic_conditions(scope: Scope, township_id: int | None = None) -> list[Any]:
    """Conditions on :class:`Topic` for the topics in the scope, of ``township_id``
    if one is named (it must be covered)."""
    if township_id is not None and not scope.covers(township_id):
        raise ValueError("the township is outside the scope")
    conditions = (
        [Topic.township == township_id]
        if township_id is not None
        else township_conditions(scope, Topic.township)
    )
    if scope.opened_by is not None:
        conditions.append(Topic.opened_by == scope.opened_by)
    if scope.village_id is not None:
        theirs = (Topic.village == scope.village_id) | (Topic.village.is_null())
        if scope.spoke_on is not None:
            spoke_on = [
                r["topic"]
                for r in await Opinion.select(Opinion.topic)
                .where(Opinion.author == scope.spoke_on)
                .distinct()
            ]
            if spoke_on:
                theirs = theirs | Topic.id.is_in(spoke_on)
        conditions.append(theirs)
    return conditions


def suggestion_conditions(scope: Scope, township_id: int | None = None) -> list[Any]:
    """Conditions on :class:`Suggestion` for the suggestions in the scope (the policy's
    ``suggestion.list``), of ``township_id`` if one is named (it must be covered): the
    township's, narrowed to a village and the township-wide ones, or only the screened
    ones."""
    if township_id is not None and not scope.covers(township_id):
        raise ValueError("the township is outside the scope")
    conditions = (
        [Suggestion.township == township_id]
        if township_id is not None
        else township_conditions(scope, Suggestion.township)
    )
    if scope.village_id is not None:
        conditions.append((Suggestion.village == scope.village_id) | (Suggestion.village.is_null()))
    if scope.screened_only:
        conditions.append(Suggestion.status.is_in(list(SCREENED_STATUSES)))
    return conditions
