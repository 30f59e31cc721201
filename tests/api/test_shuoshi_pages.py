"""村民说事 from the pages (httpx against the app, page sessions, form posts): the village's
next 说事日 shown where villagers and their representative look (the new-topic page, the
topic page, its public version) and nothing when the village has none; and a topic
walked from 说事 to 已办结 by the roles workflows/shuoshi/v1.toml names, each step from
its page (docs/workflows.md "村民说事 (shuoshi)")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from typing import Any

import httpx
from litestar import Litestar

from deliberation.clock import china_today
from deliberation.shuoshi_day import day_words, next_shuoshi_day
from deliberation.workdays import WorkingDays
from tests.api.test_sessions_end import page_client
from tests.api.test_shuoshi import PATH, SHUOSHI, add_item, hold_meeting, open_shuoshi, step
from tests.api.test_shuoshi import record_raised as record_said
from tests.conftest import browser
from tests.world import Township, World, new_township, open_topic, unique

RECORDS = {r.type: r.name for r in SHUOSHI.records}
"""The file's record kinds by type (note: 说事记录, meeting, minutes, item, progress, rating)."""
DOCUMENT = SHUOSHI.documents[0].name


def trigger_to(dest: str) -> str:
    source = PATH[PATH.index(dest) - 1]
    return next(t.trigger for t in SHUOSHI.transitions if source in t.sources and t.dest == dest)


def test_a_shuoshi_day_is_named_by_its_month_day_and_weekday() -> None:
    assert day_words(date(2026, 12, 15)) == "12月15日（星期二）"
    assert day_words(date(2027, 2, 7)) == "2月7日（星期日）"


async def _text(client: httpx.AsyncClient, path: str) -> str:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text[-500:]
    return unescape(re.sub(r"<[^>]+>", "", answer.text))


async def test_the_next_shuoshi_day_is_shown_where_villagers_look(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "说事日镇")
    village = t.villages[0]
    set_day = await world.admin.patch(f"/api/v1/villages/{village['id']}", {"shuoshi_day": 15})
    assert set_day.status_code == 200, set_day.text
    line = f"下次说事日：{day_words(next_shuoshi_day(15, china_today(), WorkingDays()))}"

    rep = await page_client(app, t["representative"].user["username"])
    assert line in await _text(rep, "/topics/new")
    topic = await open_shuoshi(t, t["representative"])
    assert line in await _text(rep, f"/topics/{topic['id']}")
    cadre = await page_client(app, t["village_cadre"].user["username"])
    assert line in await _text(cadre, f"/topics/{topic['id']}")

    # The public reads it once the topic is public (办事 on).
    await record_said(t, topic)
    assert (await step(t["village_cadre"], topic, PATH[1])).status_code == 200
    await hold_meeting(t, topic)
    await add_item(t, topic)
    assert (await step(t["village_cadre"], topic, PATH[2])).status_code == 200
    anyone, _ = await browser(app)
    assert line in await _text(anyone, f"/topics/{topic['id']}")

    # A standard topic of the same village is not raised on the 说事日: no line.
    standard = await open_topic(t, village_id=village["id"])
    staff = await page_client(app, t["staff"].user["username"])
    assert "下次说事日" not in await _text(staff, f"/topics/{standard['id']}")

    # A village without a 说事日: nothing.
    cleared = await world.admin.patch(f"/api/v1/villages/{village['id']}", {"shuoshi_day": None})
    assert cleared.status_code == 200
    assert "下次说事日" not in await _text(rep, "/topics/new")
    assert "下次说事日" not in await _text(rep, f"/topics/{topic['id']}")
    assert "下次说事日" not in await _text(anyone, f"/topics/{topic['id']}")


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> httpx.Response:
    answer = await client.post(path, data=data)
    assert answer.status_code == 303, unescape(answer.text)[-1500:]
    return answer


async def _fire(
    client: httpx.AsyncClient, t: Township, tid: int, trigger: str, **more: str
) -> None:
    version = (await t["staff"].get(f"/api/v1/topics/{tid}")).json()["version"]
    await _post(
        client, f"/topics/{tid}/transitions", {"trigger": trigger, "version": str(version), **more}
    )


async def _state_label(client: httpx.AsyncClient, tid: int) -> str:
    page = (await client.get(f"/topics/{tid}")).text
    current = re.search(r'aria-current="step">.*?<span class="name">([^<]+)</span>', page, re.S)
    assert current is not None
    return current.group(1)


async def test_a_shuoshi_topic_walked_from_its_pages_by_the_roles_the_file_names(
    world: World, app: Litestar
) -> None:
    t = await new_township(world, "说事走通镇")
    rep = await page_client(app, t["representative"].user["username"])
    cadre = await page_client(app, t["village_cadre"].user["username"])
    staff = await page_client(app, t["staff"].user["username"])
    title = unique("三组路灯不亮")

    # 说事: the representative opens it on the new-topic page and records what was said.
    opened = await _post(
        rep,
        "/topics/new",
        {
            "title": title,
            "description": "说事日上村民反映：三组路灯坏了半年。",
            "village_id": str(t.villages[0]["id"]),
            "workflow": SHUOSHI.key,
        },
    )
    tid = int(opened.headers["location"].rstrip("/").split("/")[-1])
    assert await _state_label(rep, tid) == SHUOSHI.state(PATH[0]).label
    # Their part first: the 说事记录 the next step waits for (not "nothing to do").
    said = SHUOSHI.record(RECORDS["note"]).label
    first = await _text(rep, f"/topics/{tid}")
    assert f"推进这个议题还需要您填写：{said}" in first and "目前没有需要您办理的事项" not in first
    await _post(
        rep,
        f"/topics/{tid}/records/{RECORDS['note']}",
        {
            "visited_on": str(china_today()),
            "place": "村委会说事室",
            "participants": "三组村民12人",
            "findings": "三组路灯坏了五盏，村民要求尽快修复",
        },
    )
    # The representative takes no step; the cadre's page offers it.
    assert f'id="fire-{trigger_to(PATH[1])}-form"' not in (await rep.get(f"/topics/{tid}")).text
    await _fire(cadre, t, tid, trigger_to(PATH[1]))
    assert await _state_label(cadre, tid) == SHUOSHI.state(PATH[1]).label

    # 议事: the 议事会, its minutes with the roster, an item; then 议定办事. The step waits
    # for the minutes; with no 议事会 yet, its form is offered in their place, once.
    page = (await cadre.get(f"/topics/{tid}")).text
    assert 'id="meeting-first"' in page and page.count('id="meeting-form"') == 1
    held = (china_today() - timedelta(days=1)).isoformat()
    await _post(
        cadre,
        f"/topics/{tid}/records/{RECORDS['meeting']}",
        {"scheduled_at": f"{held}T19:30", "place": "村委会议室", "host": "村党支部书记王强"},
    )
    meeting = (await t["village_cadre"].get(f"/api/v1/topics/{tid}/meetings")).json()[0]
    page = (await cadre.get(f"/topics/{tid}")).text
    assert f'id="minutes-{meeting["id"]}-form"' in page and 'id="meeting-first"' not in page
    await _post(
        cadre,
        f"/topics/{tid}/records/{RECORDS['minutes']}/{meeting['id']}",
        {
            "summary": "村两委和村民代表议定修复路灯",
            "decisions": "村委会负责，一个月内修复",
            "attendee_name": ["王强", "李秀英"],
            "attendee_unit": ["村党支部", "村民代表"],
            "attendee_attendance": ["present", "present"],
        },
    )
    await _post(
        cadre,
        f"/topics/{tid}/records/{RECORDS['item']}",
        {
            "content": "更换三组路灯五盏",
            "responsible_unit": "村委会",
            "due_date": str(china_today() + timedelta(days=30)),
        },
    )
    await _fire(cadre, t, tid, trigger_to(PATH[2]))
    assert await _state_label(cadre, tid) == SHUOSHI.state(PATH[2]).label

    # 办事: the cadre reports it done; the township's staff publish the 办事结果公示.
    item = (await t["village_cadre"].get(f"/api/v1/topics/{tid}/resolution-items")).json()[0]
    await _post(
        cadre,
        f"/topics/{tid}/records/{RECORDS['progress']}/{item['id']}",
        {"note": "五盏路灯已更换", "percent": "100", "completed": "true"},
    )
    # The 办事结果公示 the cadre's step waits for is offered to staff, who draft it (under
    # 下一步), not to the cadre, who could not.
    assert 'id="notice-form"' not in (await cadre.get(f"/topics/{tid}")).text
    staff_page = (await staff.get(f"/topics/{tid}")).text
    assert 'id="notice-form"' in staff_page
    assert f'id="plan-{trigger_to(PATH[3])}"' in staff_page
    await _post(staff, f"/topics/{tid}/documents", {"kind": DOCUMENT})
    draft = next(
        d
        for d in (await t["staff"].get(f"/api/v1/topics/{tid}/documents")).json()
        if d["kind"] == DOCUMENT
    )
    await _post(staff, f"/topics/{tid}/documents/{draft['id']}/publish", {"confirmed": "yes"})
    await _fire(cadre, t, tid, trigger_to(PATH[3]))
    assert await _state_label(cadre, tid) == SHUOSHI.state(PATH[3]).label

    # 评事: the representative enters the villagers' rating; the cadre closes it (asked first).
    page = (await rep.get(f"/topics/{tid}")).text
    assert 'id="rating-form"' in page
    await _post(
        rep, f"/topics/{tid}/records/{RECORDS['rating']}", {"rating": "satisfied", "comment": ""}
    )
    asked = await cadre.post(
        f"/topics/{tid}/transitions",
        data={"trigger": trigger_to(PATH[4]), "version": "0"},
    )
    assert asked.status_code == 200 and "确认" in unescape(asked.text)
    await _fire(cadre, t, tid, trigger_to(PATH[4]), confirmed="yes")
    assert await _state_label(cadre, tid) == SHUOSHI.state(PATH[4]).label
    closed = (await t["staff"].get(f"/api/v1/topics/{tid}")).json()
    assert closed["state"] == PATH[-1] and closed["workflow"]["key"] == SHUOSHI.key
