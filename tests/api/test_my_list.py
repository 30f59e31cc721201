"""/me keeps everything (issue 13, item 2): 待办, 进行中 and 已办结 tabs, the state filter
for every state (finished ones too), and a representative's topics they spoke on."""

from __future__ import annotations

import re
from html import unescape

from litestar import Litestar

from tests.api.test_sessions_end import page_client, patch_user
from tests.world import Township, World, fire, new_township, open_topic, topic_in_state


def listed(html: str) -> list[str]:
    """The titles in the page's list."""
    block = html.split('id="my-topics"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="/topics/\d+(?:#[\w-]+)?">([^<]+)</a>', block)


def tab_count(html: str, label: str) -> int:
    found = re.search(label + r"（(\d+)）", unescape(html))
    assert found, label
    return int(found.group(1))


async def test_finished_topics_stay_in_the_list(world: World, app: Litestar) -> None:
    town: Township = await new_township(world, "办结镇")
    closed = await topic_in_state(town, "closed")
    withdrawn = await open_topic(town)
    assert (await fire(town["liaison"], withdrawn, "withdraw")).status_code == 200
    rejected = await open_topic(town)
    assert (await fire(town["staff"], rejected, "reject", "不属于协商范围")).status_code == 200
    moving = await topic_in_state(town, "investigated")

    liaison = await page_client(app, town["liaison"].user["username"])
    done = (await liaison.get("/me?tab=done")).text
    assert set(listed(done)) == {closed["title"], withdrawn["title"], rejected["title"]}
    assert tab_count(done, "已办结") == 3
    going = (await liaison.get("/me?tab=open")).text
    assert listed(going) == [moving["title"]]
    # The state filter works for every state, finished ones too.
    for topic, state in ((closed, "closed"), (withdrawn, "withdrawn"), (rejected, "rejected")):
        page = (await liaison.get(f"/me?state={state}")).text
        assert listed(page) == [topic["title"]], state
    # Every listed topic opens.
    for path in re.findall(r'href="(/topics/\d+)"', done):
        assert (await liaison.get(path)).status_code == 200, path


async def test_todo_first_and_a_representative_keeps_what_they_spoke_on(
    world: World, app: Litestar
) -> None:
    town: Township = await new_township(world, "代表镇")
    rep = town["representative"]
    here = await open_topic(town, village_id=town.villages[0]["id"])
    r = await rep.post(
        f"/api/v1/topics/{here['id']}/opinions", {"content": "路灯太暗", "stance": "suggestion"}
    )
    assert r.status_code == 201, r.text
    # Moved to the other village by the administrator: the topic they spoke on stays.
    await patch_user(world, rep, {"village_id": town.villages[1]["id"]})
    client = await page_client(app, rep.user["username"])
    page = (await client.get("/me?tab=open")).text
    assert here["title"] in listed(page)
    # With something to do (an opinion to give), the list opens on 待办.
    elsewhere = await open_topic(town, village_id=town.villages[1]["id"])
    first = (await client.get("/me")).text
    assert 'aria-current="page">待办' in unescape(first)
    assert elsewhere["title"] in listed(first)


async def test_a_representative_is_not_asked_for_what_they_may_not_add(
    world: World, app: Litestar
) -> None:
    """A topic they spoke on stays in their list after they move village, but it is no
    longer a to-do: the policy refuses an opinion on another village's topic, so the
    list does not prompt for one (it asks ``record.add``, not the record kinds alone)."""
    town: Township = await new_township(world, "搬家镇")
    rep = town["representative"]
    before = await open_topic(town, village_id=town.villages[0]["id"])
    r = await rep.post(
        f"/api/v1/topics/{before['id']}/opinions", {"content": "渠道淤堵", "stance": "suggestion"}
    )
    assert r.status_code == 201, r.text
    await patch_user(world, rep, {"village_id": town.villages[1]["id"]})
    client = await page_client(app, rep.user["username"])
    assert before["title"] in listed((await client.get("/me?tab=open")).text)
    todo = (await client.get("/me?tab=todo")).text
    assert before["title"] not in listed(todo)
    assert tab_count(todo, "待办") == 0


async def test_each_list_says_whose_topics_it_holds(world: World, app: Litestar) -> None:
    """The title and the state filter follow the policy's ``my.list`` scope: a liaison's
    own topics, a representative's village (tabs only), the office's township."""
    town: Township = await new_township(world, "标题镇")
    await open_topic(town, village_id=town.villages[0]["id"])
    for who, title, by_state in (
        ("liaison", "我提出的议题", True),
        ("representative", "本村议题", False),
        ("staff", "本镇议题", True),
    ):
        client = await page_client(app, town[who].user["username"])
        page = (await client.get("/me?tab=open")).text
        assert f"<h2>{title}</h2>" in page, who
        assert ("按阶段查看" in page) == by_state, who
