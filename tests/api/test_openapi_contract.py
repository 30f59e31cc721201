"""The OpenAPI document tells the truth (api.md v1.1), checked two ways: what it says
(4xx answers as problem details, the bearer scheme, unknown fields refused), and
schemathesis with ``--checks all`` against a served API, signed in as each role."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.controllers.accounts import XLSX
from deliberation.tables import LoginFailure
from tests.live import Server, serving
from tests.world import PASSWORD, World, new_township
from workflows import WORKFLOW

UNTESTED_OPERATIONS = {
    "logout_api": "it would end the session the rest of the run signs in with",
    "change_my_password": "it would end the run's other sessions (its own tests cover it)",
    "reset_password": "it would end the sessions of the other roles' runs",
    "update_user": "it would deactivate or move the other roles' accounts mid-run",
}
SWITCHED_OFF_CHECKS = {
    "positive_data_acceptance": "some rules depend on stored data, not on the shape "
    "(a village of another township, minutes not yet recorded, dates outside 2000-2099): "
    "a schema-valid body can be a 422",
}


async def test_the_document_describes_errors_security_and_unknown_fields(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"].isascii() and "好商量" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["components"]["schemas"]["TopicCreate"]["additionalProperties"] is False
    assert schema["components"]["schemas"]["UserUpdate"]["additionalProperties"] is False
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]
    assert len(operations) > 50
    for path, method, op in operations:
        errors = {s: r for s, r in op["responses"].items() if s.startswith("4")}
        assert {"400", "422"} <= set(errors), (method, path)
        for answer in errors.values():
            assert answer["content"] == {"application/problem+json": {"schema": problem_ref}}
    post_topic = schema["paths"]["/api/v1/topics"]["post"]
    assert set(post_topic["responses"]) >= {"201", "401", "403", "409", "413", "422"}
    assert post_topic["security"] == [{"bearer": []}]
    assert schema["paths"]["/api/v1/public/notices"]["get"]["security"] == []
    assert {"bearer": []} in schema["paths"]["/api/v1/documents/{document_id}/pdf"]["get"][
        "security"
    ]
    assert "429" in schema["paths"]["/api/v1/auth/token"]["post"]["responses"]


async def test_the_document_says_what_it_can_and_files_are_binary(world: World) -> None:
    """Issue 25: what a generator or linter reads from the document."""
    schema = (await world.client.get("/schema/openapi.json")).json()
    shapes = schema["components"]["schemas"]
    assert schema["info"]["license"]["name"] == "Proprietary"
    trigger = shapes["TransitionRequest"]["properties"]["trigger"]
    assert set(trigger["enum"]) == set(WORKFLOW.triggers) and "pattern" not in trigger
    assert shapes["WebhookCreate"]["properties"]["target_url"]["pattern"] == "^https?://"
    assert shapes["InvestigationCreate"]["properties"]["visited_on"]["pattern"] == "^20[0-9]{2}-"
    assert shapes["MeetingPatch"]["properties"]["scheduled_at"]["pattern"] == "^20[0-9]{2}-"
    title = shapes["TopicCreate"]["properties"]["title"]["pattern"]
    assert re.search(title, "修路") and not re.search(title, "修\x00路")
    assert not re.search(title, "  ")
    paths = schema["paths"]
    q = paths["/api/v1/public/notices"]["get"]["parameters"][0]["schema"]
    assert not re.search(q["oneOf"][0]["pattern"], "a\x00")

    def one_ofs(node: Any) -> Iterator[list[Any]]:
        if isinstance(node, dict):
            if "oneOf" in node:
                yield node["oneOf"]
            for value in node.values():
                yield from one_ofs(value)
        elif isinstance(node, list):
            for value in node:
                yield from one_ofs(value)

    assert all(len(members) > 1 and {} not in members for members in one_ofs(schema))
    binary = {"type": "string", "format": "binary"}
    for path, media_type in [
        ("/api/v1/documents/{document_id}/pdf", "application/pdf"),
        ("/api/v1/topics/{topic_id}/archive", "application/zip"),
        ("/api/v1/ledger.xlsx", XLSX),
        ("/api/v1/users/import-template.xlsx", XLSX),
    ]:
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert list(content) == [media_type, "application/octet-stream"], path
        assert all(answer["schema"] == binary for answer in content.values()), path
    imported = paths["/api/v1/users/import"]["post"]["responses"]["200"]["content"]
    assert imported["application/json"]["schema"] == {"$ref": "#/components/schemas/ImportRead"}
    assert imported["application/pdf"]["schema"] == binary
    assert "304" in paths["/api/v1/documents/{document_id}/pdf"]["get"]["responses"]


def schemathesis(base: str, token: str | None, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "3",
        "--seed",
        "20261130",
        "--no-color",
        *[arg for check in SWITCHED_OFF_CHECKS for arg in ("--exclude-checks", check)],
        *[arg for op in UNTESTED_OPERATIONS for arg in ("--exclude-operation-id", op)],
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def contract_server(migrated: str) -> Iterator[Server]:
    """One served API for every role's run (each run signs in with its own token, and
    its made-up sign-ins are forgotten after it, as they were with a server each)."""
    with serving(migrated, DELIBERATION_DELIVERY_IN_SERVER="0") as server:
        yield server


@pytest.mark.parametrize("role", ["public", "admin", "staff", "liaison", "representative"])
async def test_schemathesis_finds_nothing(
    role: str, world: World, contract_server: Server, tmp_path: Path
) -> None:
    t = await new_township(world, "契约镇")
    server = contract_server
    try:
        assert server.process.poll() is None, "an earlier role's run ended the server"
        token = None
        if role != "public":
            who: Any = world.admin if role == "admin" else t[role]
            answer = httpx.post(
                f"{server.base}/api/v1/auth/token",
                json={"username": who.user["username"], "password": PASSWORD},
                timeout=30,
            )
            token = answer.json()["access_token"]
        run = schemathesis(server.base, token, tmp_path)
    finally:
        # Its sign-in attempts with made-up passwords came from 127.0.0.1, where the
        # other served tests (and the next role's run) sign in too.
        await LoginFailure.delete().where(LoginFailure.client == "127.0.0.1")
    summary = run.stdout[run.stdout.find("SUMMARY") :] or run.stdout[-3000:]
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:]
    # Every operation selected was tested (none skipped for want of a usable schema).
    selected = re.search(r"Selected: (\d+)/", summary)
    assert selected is not None and f"Tested: {selected[1]}" in summary, summary


PAGED_OPERATIONS = {
    "list_topic_events",
    "list_opinions",
    "list_investigations",
    "list_site_consultations",
    "list_notes",
    "list_meetings",
    "list_resolution_items",
    "list_satisfaction",
    "list_votes",
    "list_progress",
    "list_topic_documents",
    "list_deliveries",
    "list_suggestion_events",
    "list_users",
}
"""Issue 29: the lists paged by key (docs/decisions.md, "Paged lists")."""


async def test_the_paged_lists_document_limit_after_and_link(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()
    found = set()
    for item in schema["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or "parameters" not in op:
                continue
            query = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
            if "after" not in query:
                continue
            found.add(op["operationId"])
            limit, after = query["limit"]["schema"], query["after"]["schema"]
            assert limit == {**limit, "type": "integer", "minimum": 1, "maximum": 500}
            assert limit["default"] == 100
            assert after == {**after, "type": "integer", "minimum": 0, "maximum": 2**31 - 1}
            answer = op["responses"]["200"]
            assert answer["headers"]["Link"]["schema"] == {"type": "string"}
            assert answer["content"]["application/json"]["schema"]["type"] == "array"
    assert found == PAGED_OPERATIONS
    tallies = schema["components"]["schemas"]["TopicRead"]["properties"]["tallies"]
    assert {"$ref": "#/components/schemas/TopicTallies"} in tallies["oneOf"]
    assert "tallies" not in schema["components"]["schemas"]["TopicRead"]["required"]
