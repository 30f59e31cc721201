"""四议两公开 from the topic page (httpx against the app, a page session): the vote
form with the quorum figures, the next step refusing then taking the step, and the
decision notice offered where it may be drafted."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

from litestar import Litestar

from deliberation.clock import china_today
from tests.api.test_sessions_end import page_client
from tests.api.test_siyi import SIYI, _quorum, _siyi_topic, _trigger
from tests.world import World, new_township

DAY = 86400.0


async def test_a_cadre_walks_a_siyi_topic_from_the_page(
    world: World, app: Litestar, move_clock: Callable[[float], None]
) -> None:
    town = await new_township(world, "四议镇")
    topic = await _siyi_topic(town)
    tid = topic["id"]
    cadre = await page_client(app, town["village_cadre"].user["username"])
    first = _trigger(SIYI.initial)
    rule = _quorum(first)

    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    assert 'id="vote-form"' in page
    assert 'id="quorum-rules"' in page
    assert f"{rule['body']}实到多于应到的1/2，同意多于应到的1/2" in page
    assert f"fire-{first}-form" in page  # the next step's box
    # The browser allows the counts the API takes (max="0" once blocked every vote).
    assert 'id="vote-present" name="present" type="number" min="0" max="100000"' in page

    # A bad vote is said next to its field; nothing is saved.
    answer = await cadre.post(
        f"/topics/{tid}/records/vote",
        data={
            "body": rule["body"],
            "held_on": str(china_today()),
            "roster_size": "7",
            "present": "9",
            "for": "5",
            "against": "0",
            "abstain": "0",
            "method": "举手",
            "presided_by": "王书记",
        },
    )
    assert answer.status_code == 422, answer.text[-500:]
    assert "不能超过应到人数" in unescape(answer.text)

    # The step before the vote: refused with what is missing.
    version = topic["version"]
    answer = await cadre.post(
        f"/topics/{tid}/transitions", data={"trigger": first, "version": str(version)}
    )
    assert answer.status_code in (303, 422), answer.text[-500:]
    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    assert SIYI.state(SIYI.initial).label in page

    answer = await cadre.post(
        f"/topics/{tid}/records/vote",
        data={
            "body": rule["body"],
            "held_on": str(china_today()),
            "roster_size": "7",
            "present": "7",
            "for": "6",
            "against": "1",
            "abstain": "0",
            "method": "无记名投票",
            "presided_by": "王书记",
        },
    )
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    assert 'id="votes"' in page and "无记名投票" in page

    answer = await cadre.post(
        f"/topics/{tid}/transitions", data={"trigger": first, "version": str(version)}
    )
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    second = SIYI.main_path[1]
    assert f"fire-{_trigger(second)}-form" in page
    # The next 议's rule is shown, with the 7 days it waits.
    assert _quorum(_trigger(second))["body"] in page


async def test_a_standard_topic_page_offers_no_vote_form(world: World, app: Litestar) -> None:
    from tests.world import open_topic

    topic = await open_topic(world.a)
    staff = await page_client(app, world.a["staff"].user["username"])
    page = (await staff.get(f"/topics/{topic['id']}")).text
    assert 'id="vote-form"' not in page and 'id="votes"' not in page


async def test_a_cadre_corrects_a_votes_figures_from_the_page(world: World, app: Litestar) -> None:
    """更正 from the page, with a reason: bad figures are said in Chinese next to the
    field and nothing is written; good ones show with the revision kept."""
    from deliberation.tables import Vote
    from tests.api.test_siyi import _vote

    town = await new_township(world, "更正镇")
    topic = await _siyi_topic(town)
    tid = topic["id"]
    rule = _quorum(_trigger(SIYI.initial))
    r = await town["village_cadre"].post(
        f"/api/v1/topics/{tid}/votes",
        _vote(rule["body"], roster_size=7, present=7, **{"for": 3}, against=4, abstain=0),
    )
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    cadre = await page_client(app, town["village_cadre"].user["username"])
    page = unescape((await cadre.get(f"/topics/{tid}")).text)
    form = f"/topics/{tid}/corrections/vote/{vid}"
    assert f'action="{form}"' in page
    assert f'id="correct_vote-{vid}-for" name="for" type="number" min="0" max="100000"' in page
    # A representative reads the votes but may not correct them.
    representative = await page_client(app, town["representative"].user["username"])
    assert f'action="{form}"' not in (await representative.get(f"/topics/{tid}")).text

    # 同意+反对+弃权 > 实到: said on the page in Chinese, nothing written.
    answer = await cadre.post(form, data={"for": "6", "against": "4", "reason": "同意票数记错"})
    assert answer.status_code == 422, answer.text[-500:]
    said = unescape(answer.text)
    assert "同意、反对、弃权合计 10 人，不能超过实到人数（7）" in said
    assert f'id="correct_vote-{vid}-for-error"' in said
    row = await Vote.select().where(Vote.id == vid).first()
    assert row is not None and row["votes_for"] == 3 and row["revision"] == 1

    # No reason: asked for, nothing written.
    answer = await cadre.post(form, data={"for": "6", "against": "1"})
    assert answer.status_code == 422
    assert f'id="correct_vote-{vid}-reason-error"' in answer.text

    answer = await cadre.post(form, data={"for": "6", "against": "1", "reason": "同意票数记错"})
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    assert "saved=correct_vote" in answer.headers["location"]
    page = unescape((await cadre.get(answer.headers["location"])).text)
    assert "表决记录已更正" in page
    assert "已更正 1 次" in page
    row = await Vote.select().where(Vote.id == vid).first()
    assert row is not None and (row["votes_for"], row["against"], row["revision"]) == (6, 1, 2)
    revisions = (await town["village_cadre"].get(f"/api/v1/votes/{vid}/revisions")).json()
    assert [v["content"]["votes_for"] for v in revisions] == [3, 6]
    assert revisions[0]["reason"] == "同意票数记错"


async def test_the_vote_form_offers_each_body_the_file_names(world: World, app: Litestar) -> None:
    from deliberation.records import vote_bodies, vote_kind

    town = await new_township(world, "会议镇")
    topic = await _siyi_topic(town)
    cadre = await page_client(app, town["village_cadre"].user["username"])
    page = unescape((await cadre.get(f"/topics/{topic['id']}")).text)
    kind = vote_kind(SIYI)
    assert kind is not None
    bodies = vote_bodies(SIYI, kind.name)
    assert len(bodies) >= 5  # 党支部委员会 … 村民代表会议, and the 村民会议's two counts
    for body in bodies:
        assert f'<option value="{body}"' in page
    first = _quorum(_trigger(SIYI.initial))["body"]
    assert f'<option value="{first}" selected>' in page
    assert 'id="vote-notice_given_on"' in page


async def test_the_staff_page_of_a_resolved_topic_names_its_own_time_limit(
    world: World, app: Litestar, move_clock: Callable[[float], None]
) -> None:
    """决议公开 has a time limit of its own (公开决议): the staff's page read it from the
    standard workflow, which has no such state, and answered 500."""
    from tests.api.test_siyi import _state, _to_resolution, _vote
    from tests.world import fire

    town = world.a
    topic = await _siyi_topic(town)
    cadre, staff = await _to_resolution(town, topic, move_clock)
    onward = _trigger(await _state(cadre, topic))
    r = await cadre.post(
        f"/api/v1/topics/{topic['id']}/votes",
        _vote(_quorum(onward)["body"], roster_size=27, present=20, **{"for": 15}),
    )
    assert r.status_code == 201, r.text
    r = await fire(staff, topic, onward)
    assert r.status_code == 200, r.text
    limit = SIYI.state(r.json()["state"]).time_limit
    assert limit is not None
    client = await page_client(app, town["staff"].user["username"])
    page = await client.get(f"/topics/{topic['id']}")
    assert page.status_code == 200, page.text[-1500:]
    assert f"{limit.label}期限" in unescape(page.text)


async def test_the_cadres_list_offers_the_vote_of_a_siyi_topic(world: World, app: Litestar) -> None:
    """My list names what the person may add by the topic's own workflow (it read the
    standard workflow's kinds, which have no vote: the siyi topic waited on nobody)."""
    from deliberation.records import vote_kind

    town = await new_township(world, "名单镇")
    topic = await _siyi_topic(town)
    cadre = await page_client(app, town["village_cadre"].user["username"])
    page = unescape((await cadre.get("/me")).text)
    kind = vote_kind(SIYI)
    assert kind is not None
    assert f'href="/topics/{topic["id"]}#vote-form"' in page
    assert f"可以添加{kind.label}" in page
