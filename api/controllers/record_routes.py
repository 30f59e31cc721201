"""The record routes made from the record types (docs/record-kinds.md): for each storage
with a collection path — a kind with a table of its own, or a type's generic table —
``POST`` and ``GET /api/v1/topics/{id}/<path>`` and, where it may be corrected,
``PATCH /api/v1/<path>/{record_id}``. The operation ids, shapes and guards come from
the storage; the handlers stay thin (one service call each). What is not a collection
of a topic (answers, minutes, progress, tallies, revisions) is in ``records.py``.

The OpenAPI document these make is pinned by ``tests/api/test_record_routes_contract.py``
(the v1 contract: operation ids, statuses, schemas unchanged)."""

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, Response, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import CurrentPrincipal, record_guard, record_type_guard
from api.paging import PAGED, CurrentWindow, paged
from deliberation import records
from deliberation.paging import Window
from deliberation.record_types import TYPES, RecordType, Storage
from deliberation.security import Principal

TOPIC = "/api/v1/topics/{topic_id:int}"
KIND_QUERY = Annotated[str | None, QueryParameter(max_length=40)]


def _named(name: str, handler: Callable[..., Any], hints: dict[str, Any]) -> Callable[..., Any]:
    """``handler`` under ``name`` (the OpenAPI summary is made from it) with ``hints`` as
    its annotations (Litestar reads the parameters' kinds and the answer's shape there)."""
    handler.__name__ = handler.__qualname__ = name
    handler.__annotations__ = hints
    return handler


def _service(name: str) -> Callable[..., Any]:
    return getattr(records, name)  # type: ignore[no-any-return]


def _add(kind: str, type_: RecordType, storage: Storage) -> HTTPRouteHandler:
    operation = storage.operations[0]
    service = _service(storage.add)
    guard = record_type_guard(type_.name) if storage.has_kind else record_guard(kind)

    async def handler(principal: Principal, topic_id: int, data: Any) -> Any:
        return await service(principal, topic_id, data)

    hints = {
        "principal": CurrentPrincipal,
        "topic_id": FromPath[int],
        "data": JSONBody[storage.create],  # type: ignore[misc,name-defined]
        "return": storage.read,
    }
    return post(
        f"{TOPIC}/{storage.path}", operation_id=operation, guards=[guard], tags=["records"]
    )(_named(operation, handler, hints))


def _list(storage: Storage) -> HTTPRouteHandler:
    """The kind's list, a page at a time (docs/decisions.md, "Paged lists"): the
    service ``page_<name>`` for the operation ``list_<name>``."""
    operation = storage.operations[1]
    service = _service("page_" + operation.removeprefix("list_"))
    by_kind = "kind" in inspect.signature(service).parameters
    hints: dict[str, Any] = {
        "request": Request[Any, Any, Any],
        "principal": CurrentPrincipal,
        "topic_id": FromPath[int],
        "window": CurrentWindow,
        "return": Response[list[storage.read]],  # type: ignore[name-defined]
    }
    if by_kind:

        async def handler(
            request: Request[Any, Any, Any],
            principal: Principal,
            topic_id: int,
            window: CurrentWindow,
            kind: str | None = None,
        ) -> Any:
            return paged(request, await service(principal, topic_id, kind, window))

        hints["kind"] = KIND_QUERY
    else:

        async def handler(  # type: ignore[misc]
            request: Request[Any, Any, Any], principal: Principal, topic_id: int, window: Window
        ) -> Any:
            return paged(request, await service(principal, topic_id, window))

    return get(f"{TOPIC}/{storage.path}", operation_id=operation, tags=["records"], **PAGED)(
        _named(operation, handler, hints)
    )


def _correct(storage: Storage) -> HTTPRouteHandler:
    operation = storage.operations[2]
    service = _service(storage.correct)

    async def handler(principal: Principal, record_id: int, data: Any) -> Any:
        return await service(principal, record_id, data)

    hints = {
        "principal": CurrentPrincipal,
        "record_id": FromPath[int],
        "data": JSONBody[storage.patch],  # type: ignore[misc,name-defined]
        "return": storage.read,
    }
    return patch(
        f"/api/v1/{storage.path}/{{record_id:int}}", operation_id=operation, tags=["corrections"]
    )(_named(operation, handler, hints))


def record_route_handlers() -> list[HTTPRouteHandler]:
    """Every record type's collection routes, in the types' order."""
    handlers: list[HTTPRouteHandler] = []
    for type_ in TYPES.values():
        storages = [*type_.kinds.items(), *([("", type_.generic)] if type_.generic else [])]
        for kind, storage in storages:
            if not storage.path or storage.create is None:
                continue
            handlers += [_add(kind, type_, storage), _list(storage)]
            if storage.patch is not None and storage.correct and not storage.publishing:
                handlers.append(_correct(storage))
    return handlers


RECORD_ROUTES = record_route_handlers()
