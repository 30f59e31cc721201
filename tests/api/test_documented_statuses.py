"""Every status a route's code can answer is in the OpenAPI document (issue 25: the
archive's 409 was not). Found in the code, not listed by hand: from each route handler
(and its guards) the walk follows every project function it names, through the
services, and collects the error classes they name (``raise NotFound(...)``, a
``Decision`` made with ``TransitionNotAllowed``) and the statuses it answers with
(``Response(b"", status_code=304)``); a permission check with a literal
action follows that action's rule only. Each class's ``status`` must be documented for
that operation, or be listed below with the reason it is not."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler

from deliberation import permissions
from deliberation.errors import DomainError

PROJECT = ("api", "deliberation", "workflows")

NOT_DOCUMENTED: dict[tuple[str, int], str] = {
    ("open_topic", 404): "the topic is read back right after it was written, in the "
    "caller's own township: the read's 404 cannot happen (a village of another township "
    "is a 422)",
    ("create_plan", 404): "the draft is read back right after it was written by its "
    "editor, who reads drafts; a topic an item names that the caller does not see is "
    "caught and answered 422 (items[n].topic_id)",
    ("chain_heads", 404): "the policy's read decision (bool(allowed(None, "
    '"topic.read", …))) filters which topics are named, never checked: a hidden topic is '
    "left out, not answered 404",
    **{
        (operation, 404): "the policy's read decision filters what is listed "
        '(bool(allowed_…(…, "….read", …)), never checked: a hidden one is left out); '
        "a listed row read again for the office's view (suggestions.read.office_view) "
        "is there"
        for operation in ("list_plans", "list_suggestions", "similar_suggestions")
    },
}
"""(operationId, status) a route's code names but the document deliberately leaves out
(the walk over-approximates: it follows every branch), with the reason."""


def _status_of(value: Any) -> int | None:
    if inspect.isclass(value):
        if issubclass(value, DomainError) and value is not DomainError:
            return value.status
        if issubclass(value, HTTPException) and value is not HTTPException:
            return int(value.status_code)
    return None


def _ours(value: Any) -> bool:
    return (inspect.isfunction(value) or inspect.ismethod(value)) and str(
        getattr(value, "__module__", "")
    ).startswith(PROJECT)


class Walk:
    """The statuses each function's code can lead to, memoised per function."""

    def __init__(self) -> None:
        self.seen: dict[Any, set[int]] = {}

    def statuses(self, fn: Callable[..., Any]) -> set[int]:
        fn = inspect.unwrap(fn)
        code = getattr(fn, "__code__", None)
        if code is None:
            return set()
        if code in self.seen:
            return self.seen[code]
        self.seen[code] = found = set()  # a cycle sees what is found so far
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):
            return found
        owner = self._owner(fn)
        found |= self._collect([ast.parse(source)], fn, owner)
        return found

    def _collect(self, roots: Iterable[ast.AST], fn: Callable[..., Any], owner: Any) -> set[int]:
        """What the code under ``roots`` (of ``fn``) can lead to."""
        found: set[int] = set()

        def branching(node: ast.AST) -> bool:
            return isinstance(node, ast.Call) and self._is_branching_check(node, fn, owner)

        for node in (n for root in roots for n in self._nodes(root, branching)):
            if isinstance(node, ast.Call) and self._is_permission_check(node, fn, owner):
                found |= self._rule_statuses(node, fn)
                continue
            if isinstance(node, ast.Call) and self._is_branching_check(node, fn, owner):
                found |= self._branch_statuses(node, fn, owner)
                continue
            if (
                isinstance(node, ast.keyword)
                and node.arg == "status_code"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, int)
            ):
                found.add(node.value.value)  # Response(b"", status_code=304)
                continue
            value = self._resolve(node, fn, owner)
            status = _status_of(value)
            if status is not None:
                found.add(status)
            elif _ours(value):
                found |= self.statuses(value)
        return found

    def _is_branching_check(self, node: ast.Call, fn: Callable[..., Any], owner: Any) -> bool:
        return self._resolve(node.func, fn, owner) in BRANCHING_CHECKS

    def _branch_statuses(self, node: ast.Call, fn: Callable[..., Any], owner: Any) -> set[int]:
        """``allowed_suggestion(who, "suggestion.file", ...)``: the check's statements as
        that action runs them (an ``if action == "…":`` of another action skipped, its
        own taken, up to the first ``return``), and the arguments; any other action
        expression: the whole function, and the arguments."""
        check = inspect.unwrap(self._resolve(node.func, fn, owner))
        found = self._collect([*node.args, *node.keywords], fn, owner)
        action: Any = node.args[1] if len(node.args) > 1 else None
        if not (isinstance(action, ast.Constant) and isinstance(action.value, str)):
            return found | self.statuses(check)
        tree = ast.parse(textwrap.dedent(inspect.getsource(check))).body[0]
        assert isinstance(tree, ast.FunctionDef)
        taken = _as_run(tree.body, action.value)
        return found | self._collect(taken, check, self._owner(check))

    @staticmethod
    def _nodes(
        tree: ast.AST, prune: Callable[[ast.AST], bool] = lambda node: False
    ) -> Iterator[ast.AST]:
        """Every node but the classes an ``except`` clause names (catching is not raising)
        and what a node ``prune`` says is followed otherwise holds (a branching check's
        name and arguments: :meth:`_branch_statuses`)."""
        todo: list[ast.AST] = [tree]
        while todo:
            node = todo.pop()
            yield node
            if prune(node):
                continue
            for child in ast.iter_child_nodes(node):
                if isinstance(node, ast.ExceptHandler) and child is node.type:
                    continue
                todo.append(child)

    @staticmethod
    def _owner(fn: Callable[..., Any]) -> Any:
        parts = fn.__qualname__.split(".")
        if len(parts) < 2 or "<locals>" in parts:
            return None
        module = inspect.getmodule(fn)
        return getattr(module, parts[-2], None)

    def _resolve(self, node: ast.AST, fn: Callable[..., Any], owner: Any) -> Any:
        if isinstance(node, ast.Name):
            closure = inspect.getclosurevars(fn).nonlocals
            if node.id in closure:
                return closure[node.id]
            return fn.__globals__.get(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                return getattr(owner, node.attr, None) if owner is not None else None
            base = self._resolve(node.value, fn, owner)
            if isinstance(base, types.ModuleType) or inspect.isclass(base):
                return getattr(base, node.attr, None)
        return None

    def _is_permission_check(self, node: ast.Call, fn: Callable[..., Any], owner: Any) -> bool:
        return self._resolve(node.func, fn, owner) is permissions.allowed

    def _rule_statuses(self, node: ast.Call, fn: Callable[..., Any]) -> set[int]:
        """``allowed(who, "topic.archive", ...)`` (or the action a guard was made for):
        that action's rule; any other action expression: every rule."""
        action: Any = node.args[1] if len(node.args) > 1 else None
        if isinstance(action, ast.Constant):
            action = action.value
        elif isinstance(action, ast.Name):
            action = self._resolve(action, fn, None)
        policy = permissions.POLICY
        if isinstance(action, str):
            rules = [getattr(policy, "_" + action.replace(".", "_"))]
        else:
            rules = [getattr(policy, "_" + a.replace(".", "_")) for a in permissions.ACTIONS]
        found: set[int] = {403}  # Decision.check's default error
        for rule in rules:
            found |= self.statuses(rule)
        return found


BRANCHING_CHECKS = (permissions.allowed_suggestion, permissions.allowed_plan)
"""Permission checks that are one function over their actions, each action's rule an
``if action == "…":`` branch: a call with a literal action follows that branch only."""


def _action_branch(statement: ast.stmt) -> str | None:
    """The action an ``if action == "…":`` statement is about, else None."""
    test = statement.test if isinstance(statement, ast.If) else None
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "action"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
    ):
        return str(test.comparators[0].value)
    return None


def _as_run(body: list[ast.stmt], action: str) -> list[ast.stmt]:
    """The statements of ``body`` that ``action`` runs: another action's branch left
    out, its own branch's statements in its place, up to the first ``return``."""
    taken: list[ast.stmt] = []
    for statement in body:
        branch = _action_branch(statement)
        if branch is not None:
            assert isinstance(statement, ast.If) and not statement.orelse
            if branch != action:
                continue
            inner = _as_run(statement.body, action)
            taken += inner
            if inner and isinstance(inner[-1], ast.Return):
                return taken
            continue
        taken.append(statement)
        if isinstance(statement, ast.Return):
            return taken
    return taken


Operation = tuple[str, str]
"""(path as the document writes it, method in lower case)."""


def operations(app: Litestar) -> Iterator[tuple[Operation, HTTPRouteHandler]]:
    for route in app.routes:
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler):
                for method in handler.http_methods:
                    yield (path, method.lower()), handler


def code_statuses(app: Litestar) -> dict[Operation, set[int]]:
    walk = Walk()
    found: dict[Operation, set[int]] = {}
    for operation, handler in operations(app):
        statuses = walk.statuses(handler.fn)
        for guard in handler.resolve_guards():
            statuses |= walk.statuses(getattr(guard, "func", guard))  # Litestar wraps it
        found.setdefault(operation, set()).update(s for s in statuses if s != 500)
    return found


def documented(schema: dict[str, Any]) -> dict[Operation, tuple[str, set[int]]]:
    """Each operation's id and documented statuses."""
    return {
        (path, method): (op["operationId"], {int(s) for s in op["responses"]})
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    }


async def test_every_status_the_code_can_answer_is_documented(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    said = documented(schema)
    walked = code_statuses(app)
    found = {said[op][0]: statuses for op, statuses in walked.items() if op in said}
    assert len(found) == len(said) > 60  # every documented operation's code was walked
    missing = {
        (said[op][0], status)
        for op, statuses in walked.items()
        if op in said
        for status in statuses
        if status not in said[op][1] and (said[op][0], status) not in NOT_DOCUMENTED
    }
    assert missing == set(), sorted(missing)
    assert set(NOT_DOCUMENTED) <= {(op, s) for op, statuses in found.items() for s in statuses}
    # The walk finds what it looks for: the archive's stage refusal (issue 25), a
    # service's own NotFound, a guard's 403.
    assert 409 in found["topic_archive"] and 404 in found["get_document"]
    assert 403 in found["create_township"] and 304 in found["document_pdf"]
