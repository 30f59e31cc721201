"""The pages as a client of the domain (issue 13, item 13): sign-in is one guard for
every form, each field takes exactly what the API takes (never cut, never more), an
unknown form is a plain 404, and what a person sees of a record is the policy's
projection."""

from __future__ import annotations

import re
from html import unescape

from litestar import Litestar

from tests.api.test_sessions_end import browser, page_client
from tests.world import World, fire, new_township, open_topic, topic_in_state


async def test_every_form_sends_a_stranger_to_sign_in_and_back(world: World, app: Litestar) -> None:
    town = await new_township(world, "登录镇")
    topic = await open_topic(town)
    stranger, token = await browser(app)
    posts = [
        f"/topics/{topic['id']}/records/opinion",
        f"/topics/{topic['id']}/records/progress/1",
        f"/topics/{topic['id']}/corrections/investigation/1",
        f"/topics/{topic['id']}/transitions",
        f"/topics/{topic['id']}/documents",
        f"/topics/{topic['id']}/documents/1/publish",
    ]
    for path in posts:
        answer = await stranger.post(path, data={"x": "1"}, headers={"x-csrftoken": token})
        assert answer.status_code == 303, path
        # Back to the topic's page afterwards, not to the form's address.
        assert answer.headers["location"] == f"/login?next=/topics/{topic['id']}", path
    for path in ("/me", "/me/password", "/topics/new"):
        answer = await stranger.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"
    # htmx swaps answers into the page: it is told to move the whole page instead.
    answer = await stranger.post(
        f"/topics/{topic['id']}/records/opinion_answer/1",
        data={"adoption": "adopted"},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert answer.headers["HX-Redirect"] == f"/login?next=/topics/{topic['id']}"


async def test_a_long_comment_on_a_step_is_refused_next_to_it_never_cut(
    world: World, app: Litestar
) -> None:
    town = await new_township(world, "说明镇")
    topic = await topic_in_state(town, "proposed")
    await town["liaison"].post(
        f"/api/v1/topics/{topic['id']}/investigations",
        {"visited_on": "2026-11-20", "place": "村委会", "participants": "张三", "findings": "路灯"},
    )
    staff = await page_client(app, town["staff"].user["username"])
    page = unescape((await staff.get(f"/topics/{topic['id']}")).text)
    # The page offers exactly the API's limit.
    assert re.search(r'id="fire-investigate-comment" name="comment"[^>]* maxlength="2000"', page)

    too_long = "说" * 2001
    answer = await staff.post(
        f"/topics/{topic['id']}/transitions",
        data={"trigger": "investigate", "version": str(topic["version"]), "comment": too_long},
    )
    assert answer.status_code == 422
    shown = unescape(answer.text)
    assert 'id="fire-investigate-comment-error"' in shown and "2000" in shown
    assert too_long in shown  # what they typed is kept to shorten, not lost
    still = (await town["staff"].get(f"/api/v1/topics/{topic['id']}")).json()
    assert still["state"] == "proposed"

    answer = await staff.post(
        f"/topics/{topic['id']}/transitions",
        data={"trigger": "investigate", "version": str(topic["version"]), "comment": "说" * 2000},
    )
    assert answer.status_code == 303
    events = (await town["staff"].get(f"/api/v1/topics/{topic['id']}/events")).json()
    assert events[-1]["comment"] == "说" * 2000  # whole, not cut


async def test_the_meeting_form_takes_a_host_as_long_as_the_api_does(
    world: World, app: Litestar
) -> None:
    town = await new_township(world, "主持镇")
    topic = await topic_in_state(town, "site_consultation")
    staff = await page_client(app, town["staff"].user["username"])
    page = unescape((await staff.get(f"/topics/{topic['id']}")).text)
    # Was 50 on the page while the API took 100.
    assert 'id="meeting-host" name="host" maxlength="100"' in page
    assert 'id="meeting-place" name="place" maxlength="200"' in page
    answer = await staff.post(
        f"/topics/{topic['id']}/records/meeting",
        data={"scheduled_at": "2026-12-20T09:30", "place": "会议室", "host": "主" * 100},
    )
    assert answer.status_code == 303, unescape(answer.text)[-2000:]


async def test_an_unknown_form_is_a_plain_not_found(world: World, app: Litestar) -> None:
    town = await new_township(world, "无此镇")
    topic = await open_topic(town)
    staff = await page_client(app, town["staff"].user["username"])
    for path in (
        f"/topics/{topic['id']}/records/nonsense",
        f"/topics/{topic['id']}/records/nonsense/3",
        f"/topics/{topic['id']}/corrections/nonsense/3",
    ):
        answer = await staff.post(path, data={"content": "x"})
        assert answer.status_code == 404, path
        shown = unescape(answer.text)
        assert "没有这种记录" in shown, path
        assert "议题不存在" not in shown, path  # not a made-up missing topic


async def test_a_representative_sees_records_as_the_policy_projects_them(
    world: World, app: Litestar
) -> None:
    town = await new_township(world, "投影镇")
    topic = await open_topic(town, village_id=town.villages[0]["id"])
    await town["liaison"].post(
        f"/api/v1/topics/{topic['id']}/investigations",
        {
            "visited_on": "2026-11-20",
            "place": "村口",
            "participants": "王五、赵六",
            "findings": "灯坏",
        },
    )
    await fire(town["liaison"], topic, "investigate")
    rep = await page_client(app, town["representative"].user["username"])
    liaison = await page_client(app, town["liaison"].user["username"])
    own = (await town["representative"].get(f"/api/v1/topics/{topic['id']}/investigations")).json()
    rep_page = unescape((await rep.get(f"/topics/{topic['id']}")).text)
    office_page = unescape((await liaison.get(f"/topics/{topic['id']}")).text)
    assert "灯坏" in rep_page and "灯坏" in office_page
    # The page shows what the API gives this person, no more.
    assert own[0]["participants"] == ""
    assert "王五" not in rep_page
    assert "参加人员：王五、赵六" in office_page
