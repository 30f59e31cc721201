"""Bad input gets the documented status and ``code``, and nothing is written."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from deliberation.clock import timestamp
from deliberation.tables import Topic, TopicEvent
from tests.conftest import client_from
from tests.world import PASSWORD, World, days_from_today, topic_in_state, unique


async def _counts() -> tuple[int, int]:
    return await Topic.count(), await TopicEvent.count()


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return dict(body)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"title": "x", "description": ', "application/json"),
        (b"\xff\xfe{", "application/json"),
        (b"title=x&description=y", "application/x-www-form-urlencoded"),
        (b'{"title": "x", "description": "y"}', "text/plain"),
    ],
    ids=["malformed-json", "not-utf8", "form-encoded", "text-plain"],
)
async def test_unreadable_body_is_400(world: World, content: bytes, content_type: str) -> None:
    before = await _counts()
    response = await world.client.post(
        "/api/v1/topics",
        content=content,
        headers={**world.a["liaison"].headers, "content-type": content_type},
    )
    _problem(response, 400, "bad_request")
    assert await _counts() == before


async def test_json_null_and_empty_bodies_are_422(world: World) -> None:
    before = await _counts()
    headers = {**world.a["liaison"].headers, "content-type": "application/json"}
    for content in (b"null", b""):
        response = await world.client.post("/api/v1/topics", content=content, headers=headers)
        problem = _problem(response, 422, "validation_error")
        assert problem["errors"][0]["field"] in ("data", "body")
    assert await _counts() == before


async def test_bad_query_parameter_is_422_in_chinese(world: World) -> None:
    response = await world.a["staff"].get("/api/v1/topics", params={"village_id": "abc"})
    problem = _problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "village_id"
    assert "类型错误" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": 123, "description": "d"}, "title"),
        ({"description": "d"}, "title"),
        ({"title": "t"}, "description"),
        ({"title": "t", "description": "d", "secret_admin": True}, "secret_admin"),
        ({"title": "x" * 10_000, "description": "d"}, "title"),
        ({"title": "   ", "description": "d"}, "title"),
        ({"title": "t", "description": "d", "village_id": "一"}, "village_id"),
        ([], "body"),
    ],
    ids=[
        "wrong-type",
        "missing-title",
        "missing-description",
        "unknown-field",
        "10000-chars",
        "blank",
        "bad-id",
        "array",
    ],
)
async def test_invalid_topic_is_422_and_nothing_written(
    world: World, body: Any, field: str
) -> None:
    before = await _counts()
    response = await world.a["liaison"].post("/api/v1/topics", body)
    problem = _problem(response, 422, "validation_error")
    fields = [e["field"] for e in problem["errors"]]
    assert field in fields or (field == "body" and fields), problem
    assert await _counts() == before


async def test_two_mebibyte_body_is_413(world: World) -> None:
    before = await _counts()
    response = await world.a["liaison"].post(
        "/api/v1/topics", {"title": "t", "description": "长" * (2 * 1024 * 1024 // 3 + 10)}
    )
    _problem(response, 413, "payload_too_large")
    assert await _counts() == before


async def test_village_of_another_township_is_refused(world: World) -> None:
    before = await _counts()
    response = await world.a["liaison"].post(
        "/api/v1/topics",
        {"title": "t", "description": "d", "village_id": world.b.villages[0]["id"]},
    )
    _problem(response, 422, "validation_error")
    assert await _counts() == before


@pytest.mark.parametrize("topic_id", [999_999, 2**31, 2**63 + 5])
async def test_unknown_topic_is_404(world: World, topic_id: int) -> None:
    staff = world.a["staff"]
    _problem(await staff.get(f"/api/v1/topics/{topic_id}"), 404, "not_found")
    _problem(
        await staff.post(
            f"/api/v1/topics/{topic_id}/transitions", {"trigger": "investigate", "version": 1}
        ),
        404,
        "not_found",
    )
    _problem(await staff.get(f"/api/v1/topics/{topic_id}/events"), 404, "not_found")


async def test_unknown_records_are_404(world: World) -> None:
    staff = world.a["staff"]
    _problem(
        await staff.post("/api/v1/opinions/999999/answer", {"adoption": "adopted", "reason": "r"}),
        404,
        "not_found",
    )
    _problem(
        await staff.put(
            "/api/v1/meetings/999999/minutes",
            {
                "summary": "s",
                "decisions": "d",
                "attendees": [{"name": "n", "attendance": "present"}],
            },
        ),
        404,
        "not_found",
    )
    _problem(
        await staff.post("/api/v1/resolution-items/999999/progress", {"note": "n", "percent": 5}),
        404,
        "not_found",
    )
    _problem(await staff.get("/api/v1/no-such-endpoint"), 404, "not_found")


async def test_other_townships_topic_is_404_everywhere(world: World) -> None:
    theirs = await topic_in_state(world.b, "meeting")
    before = await _counts()
    for key in ("liaison", "staff", "representative", "admin"):
        actor = world.a[key]
        _problem(await actor.get(f"/api/v1/topics/{theirs['id']}"), 404, "not_found")
        _problem(await actor.get(f"/api/v1/topics/{theirs['id']}/events"), 404, "not_found")
        _problem(await actor.get(f"/api/v1/topics/{theirs['id']}/opinions"), 404, "not_found")
    staff = world.a["staff"]
    _problem(
        await staff.post(
            f"/api/v1/topics/{theirs['id']}/transitions",
            {"trigger": "adopt_resolution", "version": theirs["version"]},
        ),
        404,
        "not_found",
    )
    _problem(
        await staff.post(
            f"/api/v1/topics/{theirs['id']}/resolution-items",
            {"content": "c", "responsible_unit": "u", "due_date": days_from_today(30)},
        ),
        404,
        "not_found",
    )
    meetings = (await world.b["staff"].get(f"/api/v1/topics/{theirs['id']}/meetings")).json()
    _problem(
        await staff.put(
            f"/api/v1/meetings/{meetings[0]['id']}/minutes",
            {
                "summary": "s",
                "decisions": "d",
                "attendees": [{"name": "n", "attendance": "present"}],
            },
        ),
        404,
        "not_found",
    )
    listing = (await staff.get("/api/v1/topics", params={"limit": 100})).json()
    assert theirs["id"] not in [t["id"] for t in listing["items"]]
    assert await _counts() == before
    after = (await world.b["staff"].get(f"/api/v1/topics/{theirs['id']}")).json()
    assert after["version"] == theirs["version"]


async def test_unknown_trigger_is_422(world: World) -> None:
    topic = await topic_in_state(world.a, "proposed")
    response = await world.a["staff"].post(
        f"/api/v1/topics/{topic['id']}/transitions", {"trigger": "teleport", "version": 1}
    )
    problem = _problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "trigger"


async def test_stale_version_is_409(world: World) -> None:
    topic = await topic_in_state(world.a, "investigated")
    response = await world.a["liaison"].post(
        f"/api/v1/topics/{topic['id']}/transitions",
        {"trigger": "begin_site_consultation", "version": topic["version"] - 1},
    )
    _problem(response, 409, "stale_version")


async def test_missing_bad_and_expired_tokens_are_401(world: World, app: Any) -> None:
    client = world.client
    _problem(await client.get("/api/v1/topics"), 401, "unauthenticated")
    _problem(
        await client.get("/api/v1/topics", headers={"Authorization": "Bearer nonsense"}),
        401,
        "unauthenticated",
    )
    _problem(
        await client.get("/api/v1/topics", headers={"Authorization": "Basic abc"}),
        401,
        "unauthenticated",
    )
    user = world.a["staff"].user
    expired = jwt.encode(
        {
            "sub": str(user["id"]),
            "usr": user["username"],
            "rol": "staff",
            "twp": world.a.id,
            "vil": None,
            "iat": int(timestamp()) - 7200,
            "exp": int(timestamp()) - 3600,
        },
        app.state.settings.secret_key,
        algorithm="HS256",
    )
    problem = _problem(
        await client.get("/api/v1/topics", headers={"Authorization": f"Bearer {expired}"}),
        401,
        "unauthenticated",
    )
    assert "过期" in problem["detail"]
    forged = jwt.encode(
        {
            "sub": str(user["id"]),
            "usr": user["username"],
            "rol": "admin",
            "twp": world.a.id,
            "vil": None,
            "iat": int(timestamp()),
            "exp": int(timestamp()) + 3600,
        },
        "not-the-secret-key-at-all-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    _problem(
        await client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"}),
        401,
        "unauthenticated",
    )
    before = await _counts()
    _problem(
        await client.post("/api/v1/topics", json={"title": "t", "description": "d"}),
        401,
        "unauthenticated",
    )
    assert await _counts() == before


async def test_wrong_password_is_rate_limited_per_username(world: World, app: Any) -> None:

    username = world.a["liaison2"].user["username"]
    async with client_from(app) as client:
        for _ in range(5):
            r = await client.post(
                "/api/v1/auth/token", json={"username": username, "password": "wrong-password"}
            )
            _problem(r, 401, "unauthenticated")
        limited = await client.post(
            "/api/v1/auth/token", json={"username": username, "password": "wrong-password"}
        )
        problem = _problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) > 0
        assert "次数过多" in problem["detail"]
    # Even the right password is refused while the limit holds, from any address.
    async with client_from(app) as other:
        r = await other.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        _problem(r, 429, "rate_limited")


async def test_wrong_password_is_rate_limited_per_address(world: World, app: Any) -> None:

    async with client_from(app, "127.0.9.9") as client:
        for _ in range(20):
            r = await client.post(
                "/api/v1/auth/token", json={"username": unique("nobody"), "password": "x" * 9}
            )
            _problem(r, 401, "unauthenticated")
        r = await client.post(
            "/api/v1/auth/token",
            json={"username": world.a["staff"].user["username"], "password": PASSWORD},
        )
        _problem(r, 429, "rate_limited")
    # Another address is not affected.
    async with client_from(app, "127.0.9.10") as client:
        r = await client.post(
            "/api/v1/auth/token",
            json={"username": world.a["staff"].user["username"], "password": PASSWORD},
        )
        assert r.status_code == 200


async def test_a_browser_gets_an_error_page_and_the_api_problem_details(world: World) -> None:
    """The same refusal: a person in a browser reads a page that says what to do; an
    API client (or a page fetched without asking for HTML) gets problem details."""
    client = world.client
    page = await client.get("/topics/999999999", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "请核对网址是否完整" in page.text and "<script" not in page.text.split("</head>")[1]
    unknown = await client.get("/topics/no-such-page", headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and "未找到" in unknown.text
    as_json = await client.get("/topics/no-such-page")
    assert as_json.status_code == 404 and as_json.json()["code"] == "not_found"
    api = await client.get("/api/v1/topics/no-such", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    bad_query = await client.get("/notices?page=0", headers={"Accept": "text/html"})
    assert bad_query.status_code == 422 and "填写有误" in bad_query.text
    refused = await client.post(
        "/topics/1/transitions", data={"trigger": "investigate"}, headers={"Accept": "text/html"}
    )
    assert refused.status_code == 403 and "页面已过期" in refused.text


@pytest.mark.parametrize("year", ["0001", "1999", "2100", "9999"])
async def test_dates_outside_2000_to_2099_are_422_and_nothing_written(
    world: World, year: str
) -> None:
    """A slip of the keyboard in a date is bad input, never a 500 or a stored year 9999."""
    staff = world.a["staff"]
    topic = await topic_in_state(world.a, "meeting")
    tid = topic["id"]
    before = {
        path: len((await staff.get(f"/api/v1/topics/{tid}/{path}")).json())
        for path in ("investigations", "meetings", "resolution-items")
    }
    sent = {
        "investigations": {
            "visited_on": f"{year}-01-05",
            "place": "三组",
            "participants": "联络员",
            "findings": "属实",
        },
        "meetings": {
            "scheduled_at": f"{year}-12-31T23:59:00+08:00",
            "place": "会议室",
            "host": "陈",
        },
        "resolution-items": {
            "content": "修路",
            "responsible_unit": "村建办",
            "due_date": f"{year}-06-01",
        },
    }
    for path, body in sent.items():
        r = await staff.post(f"/api/v1/topics/{tid}/{path}", body)
        assert r.status_code == 422, (path, r.text)
        problem = r.json()
        assert problem["code"] == "validation_error"
        assert problem["errors"][0]["message"] == "日期应在 2000 年至 2099 年之间"
    after = {
        path: len((await staff.get(f"/api/v1/topics/{tid}/{path}")).json())
        for path in ("investigations", "meetings", "resolution-items")
    }
    assert after == before
