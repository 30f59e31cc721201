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
