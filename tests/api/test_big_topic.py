"""Issue 29: a topic with 10 000 opinions costs its readers one small page. The staff
and public pages stay under 300 KB and show the tallies as counted; 更多意见 (the plain
link, without script) gives the next 50 with none repeated; the 未答复 filter shows
only unanswered ones, and survives 更多意见; the timeline shows the newest 50 events
and a link to the older; the chain of the seeded topic still verifies."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from litestar import Litestar

from deliberation import audit
from deliberation.tables import Opinion, TopicEvent
from tests.api.test_sessions_end import page_client
from tests.big_topic import seed_opinions
from tests.conftest import client_from
from tests.world import World, fire, topic_in_state

OPINIONS = 10_000
LIMIT_BYTES = 300 * 1024


@pytest.fixture(scope="module")
async def big(world: World) -> dict[str, object]:
    """A public topic (决议) with 10 000 opinions, every second one answered."""
    topic = await topic_in_state(world.a, "resolution")
    reps = [world.a["representative"].user["id"], world.a["representative2"].user["id"]]
    await seed_opinions(topic["id"], reps, OPINIONS, staff_id=world.a["staff"].user["id"])
    return topic


def opinion_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li id="opinion-(\d+)"', page)]


def more_link(page: str) -> str | None:
    found = re.search(r'<li class="more" id="opinions-more-\d+"><a [^>]*href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def number(page: str, element: str) -> str:
    found = re.search(rf'id="{element}">(.*?)</p>', page, re.S)
    assert found, element
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", found.group(1))))


async def staff_page(app: Litestar, world: World) -> httpx.AsyncClient:
    return await page_client(app, world.a["staff"].user["username"])


async def test_the_page_of_a_big_topic_is_small(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    staff = await staff_page(app, world)
    public = client_from(app)
    for client in (staff, public):
        page = await client.get(f"/topics/{big['id']}")
        assert page.status_code == 200
        assert len(page.content) < LIMIT_BYTES, len(page.content)
        shown = opinion_ids(page.text)
        assert 0 < len(shown) <= 50
        assert shown == sorted(shown, reverse=True)  # the newest first
        assert len(re.findall(r"<li><time ", page.text)) <= 50  # the timeline too
        assert "更多办理经过" in page.text


async def test_the_tallies_are_the_counts(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    rows = await Opinion.select(Opinion.stance, Opinion.adoption).where(Opinion.topic == big["id"])
    count = {s: sum(1 for r in rows if r["stance"] == s) for s in ("support", "oppose")}
    suggestions = sum(1 for r in rows if r["stance"] == "suggestion")
    unanswered = sum(1 for r in rows if r["adoption"] is None)
    adopted = sum(1 for r in rows if r["adoption"] == "adopted")
    for client in (await staff_page(app, world), client_from(app)):
        page = (await client.get(f"/topics/{big['id']}")).text
        assert number(page, "opinion-tally") == (
            f"共 {len(rows)} 条意见：支持 {count['support']} · 反对 {count['oppose']} · "
            f"建议 {suggestions}"
        )
        answers = number(page, "answer-tally")
        assert answers.startswith(f"已答复 {len(rows) - unanswered} 条（已采纳 {adopted} ·")
        assert answers.endswith(f"未答复 {unanswered} 条")


async def test_more_opinions_without_script_gives_the_next_50(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    for client in (await staff_page(app, world), client_from(app)):
        seen: list[int] = []
        path: str | None = f"/topics/{big['id']}"
        for _ in range(3):
            assert path is not None
            page = await client.get(path)
            assert page.status_code == 200
            shown = opinion_ids(page.text)
            assert len(shown) == 50
            assert not set(shown) & set(seen)
            assert not seen or max(shown) < min(seen)  # the next older ones
            seen += shown
            path = more_link(page.text)
            assert path is not None and "opinions_before=" in path


async def test_more_opinions_with_htmx_comes_in_place(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    staff = await staff_page(app, world)
    first = (await staff.get(f"/topics/{big['id']}")).text
    before = re.search(r'hx-get="/topics/\d+/opinions\?before=(\d+)"', first)
    assert before
    more = await staff.get(
        f"/topics/{big['id']}/opinions?before={before.group(1)}", headers={"HX-Request": "true"}
    )
    assert more.status_code == 200
    shown = opinion_ids(more.text)
    assert len(shown) == 50 and max(shown) < min(opinion_ids(first))
    assert "<html" not in more.text  # the items only, no page around them
    assert 'class="more"' in more.text


async def test_the_unanswered_filter_shows_only_unanswered(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    staff = await staff_page(app, world)
    path: str | None = f"/topics/{big['id']}?show=unanswered"
    for _ in range(2):
        assert path is not None
        page = await staff.get(path)
        shown = opinion_ids(page.text)
        assert len(shown) == 50
        rows = await Opinion.select(Opinion.adoption).where(Opinion.id.is_in(shown))
        assert {r["adoption"] for r in rows} == {None}
        assert "等待答复" in page.text and "答复：已采纳" not in page.text
        path = more_link(page.text)
        assert path is not None and "show=unanswered" in path  # the filter survives 更多
    support = await staff.get(f"/topics/{big['id']}?show=support")
    rows = await Opinion.select(Opinion.stance).where(Opinion.id.is_in(opinion_ids(support.text)))
    assert {r["stance"] for r in rows} == {"support"}
    bad = await staff.get(f"/topics/{big['id']}?show=everything")
    assert bad.status_code == 422  # refused plainly, as every bad query (never a 500)


async def test_the_older_timeline_without_script(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    staff = await staff_page(app, world)
    page = (await staff.get(f"/topics/{big['id']}")).text
    found = re.search(r'href="(/topics/\d+\?events_before=(\d+)#timeline-title)"', page)
    assert found
    older = (await staff.get(html.unescape(found.group(1)))).text
    assert len(re.findall(r"<li><time ", older)) == 50
    newest = (
        await TopicEvent.select(TopicEvent.seq)
        .where(TopicEvent.topic == big["id"])
        .order_by(TopicEvent.seq, ascending=False)
        .first()
    )
    assert newest is not None and int(found.group(2)) == newest["seq"] - 49


async def test_the_seeded_chain_verifies(big: dict[str, object]) -> None:
    checked, problems = await audit.verify_all()
    assert checked >= 1
    assert [p for p in problems if p.topic_id == big["id"]] == []


async def test_a_withdrawn_topic_still_shows_where_it_stopped(world: World, app: Litestar) -> None:
    """The states passed through are read only for a topic off the main path: there the
    step indicator still shows the steps done and where it stopped."""
    topic = await topic_in_state(world.a, "investigated")
    liaison = world.a["liaison"]
    answer = await fire(liaison, topic, "withdraw", "村里已自行解决")
    assert answer.status_code == 200, answer.text
    page = (await (await staff_page(app, world)).get(f"/topics/{topic['id']}")).text
    steps = re.search(r'<ol class="steps".*?</ol>', page, re.S)
    assert steps
    done = re.findall(r'<li class="step done">.*?<span class="name">(.*?)</span>', steps[0], re.S)
    current = re.findall(
        r'<li class="step current".*?<span class="name">(.*?)</span>', steps[0], re.S
    )
    assert done == ["已提出", "已调研"], done
    assert current == ["已撤回"], current


async def test_answering_without_script_keeps_the_filter(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    """A clerk answering 未答复 one by one without script comes back to 未答复."""
    staff = await staff_page(app, world)
    page = (await staff.get(f"/topics/{big['id']}?show=unanswered")).text
    first = opinion_ids(page)[0]
    action = f"/topics/{big['id']}/records/opinion_answer/{first}?show=unanswered"
    assert f'action="{action}"' in page
    answer = await staff.post(action, data={"adoption": "adopted", "reason": "纳入实施方案"})
    assert answer.status_code == 303, answer.text
    back = answer.headers["location"]
    assert back.startswith(f"/topics/{big['id']}?show=unanswered&saved=opinion_answer")
    again = (await staff.get(back)).text
    assert first not in opinion_ids(again)  # answered: no longer among the unanswered
    assert "等待答复" in again


async def test_the_older_timeline_with_htmx_comes_in_place(
    big: dict[str, object], world: World, app: Litestar
) -> None:
    staff = await staff_page(app, world)
    page = (await staff.get(f"/topics/{big['id']}")).text
    before = re.search(r'hx-get="/topics/\d+/timeline\?before=(\d+)"', page)
    assert before
    path = f"/topics/{big['id']}/timeline?before={before.group(1)}"
    more = await staff.get(path, headers={"HX-Request": "true"})
    assert more.status_code == 200 and "<html" not in more.text
    assert len(re.findall(r"<li><time ", more.text)) == 50
    assert "更多办理经过" in more.text
    # Opened without htmx (a new tab): the page that shows the same.
    plain = await staff.get(path)
    assert plain.status_code == 303
    assert plain.headers["location"] == (
        f"/topics/{big['id']}?events_before={before.group(1)}#timeline-title"
    )
