"""No 500 from any input (api.md v1.1 "Bad input, more precisely"), on both engines:
NUL characters and invalid UTF-8 anywhere, deep nesting, OPTIONS and TRACE, pages
without a session, and error pages that say what happened."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.errors import page_error
from deliberation.tables import Topic
from tests.world import World, open_topic, topic_in_state


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["detail"]
    return dict(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/notices?q=%00",
        "/api/v1/public/notices?q=ab%00cd",
        "/api/v1/topics?q=%00",
        "/api/v1/public/notices?q=%FF",
        "/api/v1/topics/1%00",
    ],
)
async def test_nul_and_bad_utf8_in_the_address_are_400(world: World, path: str) -> None:
    answer = await world.client.get(path, headers=world.a["staff"].headers)
    body = _problem(answer, 400, "bad_request")
    if "q=" in path:
        assert "q" in body["detail"]


async def test_nul_in_the_notice_board_search_is_a_page_not_a_crash(world: World) -> None:
    answer = await world.client.get("/notices?q=%00", headers={"accept": "text/html"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>" in answer.text and "无效" in answer.text


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("title", {"title": "路灯\u0000维修", "description": "说明"}),
        ("description", {"title": "路灯维修", "description": "\u0000"}),
    ],
)
async def test_nul_in_a_json_field_is_422_naming_it_and_nothing_written(
    world: World, field: str, body: dict[str, Any]
) -> None:
    before = await Topic.count()
    answer = await world.a["liaison"].post("/api/v1/topics", body)
    problem = _problem(answer, 422, "validation_error")
    assert problem["errors"][0]["field"] == field
    assert await Topic.count() == before


async def test_nul_in_a_record_place_and_in_the_login(world: World) -> None:
    topic = await open_topic(world.a)
    answer = await world.a["liaison"].post(
        f"/api/v1/topics/{topic['id']}/investigations",
        {"visited_on": "2026-11-02", "place": "村委\u0000会", "participants": "", "findings": "x"},
    )
    assert _problem(answer, 422, "validation_error")["errors"][0]["field"] == "place"
    login = await world.client.post(
        "/api/v1/auth/token", json={"username": "ad\u0000min", "password": "x\u0000"}
    )
    assert login.status_code in (401, 422), login.text
    assert login.status_code != 500


async def test_nul_in_a_page_form_is_refused_calmly(world: World) -> None:
    answer = await world.client.post(
        "/login",
        content=b"username=a%00b&password=x",
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
    )
    assert answer.status_code in (400, 403), answer.text  # 403: no CSRF token either


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 200_000,
        b'{"title": ' * 50_000,
        b'{"title": "\xff\xfe", "description": "x"}',
    ],
    ids=["200000-brackets", "deep-objects", "raw-0xff"],
)
async def test_hostile_json_is_400(world: World, content: bytes) -> None:
    answer = await world.client.post(
        "/api/v1/topics",
        content=content,
        headers={**world.a["liaison"].headers, "content-type": "application/json"},
    )
    _problem(answer, 400, "bad_request")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/users", "/api/v1/topics", "/api/v1/topics/1", "/api/v1/public/notices", "/notices"],
)
async def test_options_answers_with_allow(world: World, path: str) -> None:
    answer = await world.client.options(path)
    assert answer.status_code == 204, answer.text
    assert "GET" in answer.headers["allow"]


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/topics", "/notices", "/healthz"])
async def test_trace_is_405_with_allow(world: World, path: str) -> None:
    answer = await world.client.request("TRACE", path, headers=world.a["staff"].headers)
    _problem(answer, 405, "method_not_allowed")
    assert "GET" in answer.headers["allow"] and "TRACE" not in answer.headers["allow"]


async def test_a_draft_preview_without_a_session_goes_to_sign_in(world: World) -> None:
    topic = await topic_in_state(world.a, "resolution")
    answer = await world.client.get(f"/topics/{topic['id']}/documents/1/preview")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/no-such-page", 404, "未找到"),
        ("/topics/999999999", 404, "未找到"),
    ],
)
async def test_error_pages_have_one_charset_and_a_fitting_title(
    world: World, path: str, status: int, title: str
) -> None:
    answer = await world.client.get(path, headers={"accept": "text/html"})
    assert answer.status_code == status
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<title>{title}" in answer.text, answer.text[:300]


def test_every_error_status_has_its_own_page_title() -> None:
    assert page_error(401)[0] == "需要登录"
    assert page_error(405)[0] == "不支持此操作"
    titles = [page_error(s)[0] for s in (400, 401, 403, 404, 405, 409, 413, 422, 429, 500)]
    assert len(set(titles)) == len(titles)
