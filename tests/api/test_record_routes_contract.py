"""The record routes' OpenAPI contract does not move when the record kinds are made from
their types (issue 26 item 7; docs/record-kinds.md): every path, method, operation id,
status, parameter and schema the records and corrections routes had before the refactor
is there unchanged (``files/openapi_records.json``, generated from main before it).
None of these may change or go; the additions are the notes' routes and, on every list,
paging (issue 29: the ``limit`` and ``after`` query parameters and the ``Link`` header,
docs/decisions.md "Paged lists"), which is checked here and then set aside."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from deliberation.record_types import GENERIC, NAMED

SNAPSHOT = Path(__file__).parent / "files" / "openapi_records.json"
TAGS = {"records", "corrections"}


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"].rsplit("/", 1)[-1]} if "$ref" in value else set()
        for item in value.values():
            found |= _refs(item)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def record_contract(schema: dict[str, Any]) -> dict[str, Any]:
    """The records' and corrections' operations, and every schema they name (closed)."""
    operations = {
        f"{method.upper()} {path}": op
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and TAGS & set(op.get("tags", []))
    }
    components = schema["components"]["schemas"]
    wanted, seen = _refs(operations), set()
    while wanted - seen:
        name = sorted(wanted - seen)[0]
        seen.add(name)
        wanted |= _refs(components.get(name, {}))
    return {"operations": operations, "schemas": {n: components[n] for n in sorted(seen)}}


PAGING = ["limit", "after"]


def without_paging(operations: dict[str, Any]) -> list[str]:
    """Takes the paging additions out of the list operations (in place); the lists it
    found them on. Each one has both parameters, the same, and the ``Link`` header."""
    paged = []
    for key, op in operations.items():
        parameters = [p for p in op.get("parameters", []) if p["name"] in PAGING]
        headers = op["responses"].get("200", {}).get("headers", {})
        if not parameters and not headers:
            continue
        assert [p["name"] for p in parameters] == PAGING, key
        assert all(p["in"] == "query" and p["schema"]["type"] == "integer" for p in parameters)
        assert parameters[0]["schema"]["maximum"] == 500, key
        assert set(headers) == {"Link"} and 'rel="next"' in headers["Link"]["description"]
        op["parameters"] = [p for p in op["parameters"] if p["name"] not in PAGING]
        op["responses"]["200"]["headers"] = {}  # as Litestar wrote it before
        paged.append(key)
    return sorted(paged)


async def test_the_record_routes_keep_their_contract(client: httpx.AsyncClient) -> None:
    now = record_contract((await client.get("/schema/openapi.json")).json())
    lists = sorted(
        k
        for k in now["operations"]
        if k.startswith("GET ") and not k.endswith(("/revisions", "/tallies"))
    )
    assert len(lists) >= 9
    assert without_paging(now["operations"]) == lists  # every list is paged, nothing else
    if os.environ.get("REGENERATE_RECORD_CONTRACT"):
        SNAPSHOT.write_text(json.dumps(now, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    before = json.loads(SNAPSHOT.read_text())
    assert len(before["operations"]) > 30
    gone = sorted(set(before["operations"]) - set(now["operations"]))
    assert not gone, f"record routes gone: {gone}"
    changed = [k for k, op in before["operations"].items() if now["operations"][k] != op]
    assert not changed, f"record routes changed: {changed}"
    moved = [k for k, s in before["schemas"].items() if now["schemas"].get(k) != s]
    assert not moved, f"schemas changed: {moved}"
    # The one addition: the notes of kinds without a table of their own.
    assert sorted(set(now["operations"]) - set(before["operations"])) == [
        "GET /api/v1/notes/{record_id}/revisions",
        "GET /api/v1/topics/{topic_id}/notes",
        "PATCH /api/v1/notes/{record_id}",
        "POST /api/v1/topics/{topic_id}/notes",
    ]


async def test_each_record_types_routes_are_the_ones_served(client: httpx.AsyncClient) -> None:
    """What a record type says of its routes (deliberation/record_types.py: path and
    operation ids, its shapes) is what the API serves: one description, kept true."""
    schema = (await client.get("/schema/openapi.json")).json()
    served = {
        (method.upper(), path): op["operationId"]
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    storages = [
        *(storage for _, storage in NAMED.values()),
        *(t.generic for t in GENERIC.values() if t.generic is not None),
    ]
    checked = 0
    for storage in storages:
        if not storage.path:
            continue
        add, listed, correct = storage.operations
        collection = f"/api/v1/topics/{{topic_id}}/{storage.path}"
        assert served[("POST", collection)] == add
        assert served[("GET", collection)] == listed
        if correct:
            assert served[("PATCH", f"/api/v1/{storage.path}/{{record_id}}")] == correct
        if storage.revised and correct:
            assert ("GET", f"/api/v1/{storage.path}/{{record_id}}/revisions") in served
        body = schema["paths"][collection]["post"]["requestBody"]["content"]["application/json"]
        assert storage.create is not None
        assert body["schema"]["$ref"].endswith(f"/{storage.create.__name__}")
        checked += 1
    assert checked >= 8
