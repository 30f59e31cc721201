"""Accounts, townships and villages; sign-in; /me; logging hygiene."""

from __future__ import annotations

import logging

import pytest

from tests.world import PASSWORD, World, sign_in, unique


async def test_sign_in_returns_an_expiring_bearer_token(world: World) -> None:
    r = await world.client.post(
        "/api/v1/auth/token",
        json={"username": world.a["staff"].user["username"], "password": PASSWORD},
    )
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["user"]["role"] == "staff" and "password" not in str(body["user"])
    me = await world.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == world.a["staff"].user["username"]


async def test_admin_manages_accounts(world: World) -> None:
    admin = world.admin
    username = unique("newrep")
    r = await admin.post(
        "/api/v1/users",
        {
            "username": username,
            "password": "long-enough-pw",
            "display_name": "新代表",
            "role": "representative",
            "township_id": world.a.id,
            "village_id": world.a.villages[0]["id"],
        },
    )
    assert r.status_code == 201, r.text
    assert (await sign_in(world.client, username, "long-enough-pw")).user[
        "role"
    ] == "representative"
    dup = await admin.post(
        "/api/v1/users",
        {
            "username": username,
            "password": "long-enough-pw",
            "display_name": "x",
            "role": "staff",
            "township_id": world.a.id,
        },
    )
    assert dup.status_code == 409 and dup.json()["code"] == "already_exists"
    wrong_village = await admin.post(
        "/api/v1/users",
        {
            "username": unique("rep"),
            "password": "long-enough-pw",
            "display_name": "x",
            "role": "representative",
            "township_id": world.a.id,
            "village_id": world.b.villages[0]["id"],
        },
    )
    assert wrong_village.status_code == 422
    assert "village_id" in [e["field"] for e in wrong_village.json()["errors"]]
    users = (await admin.get("/api/v1/users", params={"q": username})).json()  # paged
    assert username in [u["username"] for u in users]
    assert all("password" not in key for u in users for key in u)


@pytest.mark.parametrize("role", ["liaison", "staff", "representative"])
async def test_non_admins_cannot_manage_accounts(world: World, role: str) -> None:
    actor = world.a[role]
    assert (await actor.get("/api/v1/users")).status_code == 403
    r = await actor.post("/api/v1/townships", {"name": unique("镇")})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await actor.post("/api/v1/villages", {"name": "村", "township_id": world.a.id})
    assert r.status_code == 403


async def test_townships_and_villages_are_scoped(world: World) -> None:
    staff = world.a["staff"]
    assert [t["id"] for t in (await staff.get("/api/v1/townships")).json()] == [world.a.id]
    villages = (await staff.get("/api/v1/villages")).json()
    assert {v["township_id"] for v in villages} == {world.a.id}
    dup = await world.admin.post("/api/v1/villages", {"name": "金山村", "township_id": world.a.id})
    assert dup.status_code == 409


async def test_one_log_line_per_request_without_secrets(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deliberation.requests")
    username = world.a["staff"].user["username"]
    r = await world.client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        headers={"X-Request-ID": "trace-42"},
    )
    token = r.json()["access_token"]
    assert r.headers["x-request-id"] == "trace-42"
    await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "deliberation.requests"]
    assert len(lines) == 2
    assert (
        "request_id=trace-42" in lines[0]
        and "status=200" in lines[0]
        and "duration_ms=" in lines[0]
    )
    assert f"user_id={world.a['staff'].user['id']}" in lines[1]
    everything = "\n".join(rec.getMessage() for rec in caplog.records)
    assert PASSWORD not in everything and token not in everything


async def test_a_village_cadre_is_placed_in_a_township_and_one_of_its_villages(
    world: World,
) -> None:
    """村干部 (issue 26): an account of one village, placed like a representative."""
    village = world.a.villages[0]["id"]
    account = {
        "password": "long-enough-pw",
        "display_name": "村干部甲",
        "role": "village_cadre",
        "township_id": world.a.id,
    }
    username = unique("cadre")
    made = await world.admin.post(
        "/api/v1/users", {**account, "username": username, "village_id": village}
    )
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "village_cadre" and made.json()["village_id"] == village
    me = await sign_in(world.client, username, "long-enough-pw")
    assert me.user["role"] == "village_cadre"
    unplaced = await world.admin.post("/api/v1/users", {**account, "username": unique("cadre")})
    assert unplaced.status_code == 422, unplaced.text
    errors = unplaced.json()["errors"]
    assert {"field": "village_id", "message": "村干部必须属于一个村（社区）"} in errors
    # Read only: a public topic of the township, as a representative reads it; opening
    # a topic or managing accounts is refused.
    cadre = me
    assert (await cadre.get("/api/v1/users")).status_code == 403
    opened = await cadre.post(
        "/api/v1/topics", {"title": "村干部不能提出议题", "description": "村干部不能提出议题"}
    )
    assert opened.status_code == 403, opened.text


async def test_the_openapi_document_lists_the_village_cadre_role(world: World) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()
    role = schema["components"]["schemas"]["UserCreate"]["properties"]["role"]
    assert "village_cadre" in role["enum"], role
