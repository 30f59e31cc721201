"""Listing, pagination, Chinese substring search and filters."""

from __future__ import annotations

from tests.world import World, open_topic, topic_in_state, unique


async def test_chinese_two_character_search_matches_substring_scan(world: World) -> None:
    marker = unique("标记")
    titles = [
        f"{marker}塘背村排水沟清淤",
        f"{marker}镇区路灯补装",
        f"{marker}渡口排水站改造",
        f"{marker}养老服务站",
    ]
    for title in titles:
        await open_topic(world.a, title=title)
    staff = world.a["staff"]
    for word in ("排水", "服务", "路灯补装", "清", "不存在的词"):
        page = (await staff.get("/api/v1/topics", params={"q": f"{word}", "limit": 100})).json()
        found = sorted(t["title"] for t in page["items"] if t["title"].startswith(marker))
        expected = sorted(t for t in titles if word in t)
        assert found == expected, word
    desc = await open_topic(
        world.a, title=unique("无关标题"), description=f"说明中提到{marker}渠道"
    )
    page = (await staff.get("/api/v1/topics", params={"q": f"{marker}渠道"})).json()
    assert [t["id"] for t in page["items"]] == [desc["id"]]
    assert page["total"] == 1


async def test_search_treats_wildcards_literally(world: World) -> None:
    marker = unique("百分")
    hit = await open_topic(world.a, title=f"{marker} 完成率100%_达标")
    await open_topic(world.a, title=f"{marker} 完成率1000达标")
    page = (await world.a["staff"].get("/api/v1/topics", params={"q": "100%_"})).json()
    assert [t["id"] for t in page["items"]] == [hit["id"]]


async def test_pagination_newest_first_and_limits(world: World) -> None:
    marker = unique("分页")
    made = [await open_topic(world.a, title=f"{marker}第{i}号") for i in range(5)]
    staff = world.a["staff"]
    first = (await staff.get("/api/v1/topics", params={"q": marker, "limit": 2})).json()
    second = (
        await staff.get("/api/v1/topics", params={"q": marker, "limit": 2, "offset": 2})
    ).json()
    assert first["total"] == second["total"] == 5
    assert (first["limit"], first["offset"], second["offset"]) == (2, 0, 2)
    ids = [t["id"] for t in first["items"] + second["items"]]
    assert ids == [t["id"] for t in reversed(made)][:4]
    too_many = await staff.get("/api/v1/topics", params={"limit": 101})
    assert too_many.status_code == 422 and too_many.json()["code"] == "validation_error"
    negative = await staff.get("/api/v1/topics", params={"offset": -1})
    assert negative.status_code == 422


async def test_state_and_village_filters(world: World) -> None:
    village = world.a.villages[1]["id"]
    mine = await topic_in_state(world.a, "investigated", village_id=village)
    staff = world.a["staff"]
    page = (
        await staff.get(
            "/api/v1/topics", params={"state": "investigated", "village_id": village, "limit": 100}
        )
    ).json()
    assert mine["id"] in [t["id"] for t in page["items"]]
    assert {t["state"] for t in page["items"]} == {"investigated"}
    assert {t["village_id"] for t in page["items"]} == {village}
    bad = await staff.get("/api/v1/topics", params={"state": "flying"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


async def test_available_triggers_depend_on_the_caller(world: World) -> None:
    topic = await topic_in_state(world.a, "proposed")
    view = {
        key: (await world.a[key].get(f"/api/v1/topics/{topic['id']}")).json()["available_triggers"]
        for key in ("liaison", "liaison2", "staff", "representative")
    }
    assert view == {
        "liaison": ["investigate", "withdraw"],
        "liaison2": ["investigate"],
        "staff": ["investigate", "reject"],
        "representative": [],
    }
    # The township's administrator belongs to no township: the topic is not there.
    assert (await world.a["admin"].get(f"/api/v1/topics/{topic['id']}")).status_code == 404


async def test_topic_opening_is_for_liaison_and_staff(world: World) -> None:
    for key in ("representative", "admin"):
        r = await world.a[key].post("/api/v1/topics", {"title": "t", "description": "d"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await world.a["staff"].post("/api/v1/topics", {"title": "工作人员提出", "description": "d"})
    assert r.status_code == 201
    refs = {r.json()["reference"], (await open_topic(world.a))["reference"]}
    assert len(refs) == 2


async def test_two_character_total_is_exact_with_and_without_filters(world: World) -> None:
    import random

    rare = "".join(chr(random.randint(0x9E00, 0x9FA0)) for _ in range(2))
    staff = world.a["staff"]
    before = (await staff.get("/api/v1/topics", params={"q": rare})).json()["total"]
    made = [
        await open_topic(world.a, title=f"{rare}议题{i}", description=f"说明{rare}{rare}")
        for i in range(3)
    ]
    await open_topic(
        world.a, title=f"只有{rare[0]}一个字", description=f"{rare[1]} 分开写的{rare[0]} {rare[1]}"
    )
    page = (await staff.get("/api/v1/topics", params={"q": rare})).json()
    assert page["total"] == before + 3
    assert {t["id"] for t in made} <= {t["id"] for t in page["items"]}
    upper = (await staff.get("/api/v1/topics", params={"q": rare, "state": "proposed"})).json()
    assert upper["total"] == page["total"]
    theirs = (await world.b["staff"].get("/api/v1/topics", params={"q": rare})).json()
    assert theirs["total"] == 0 and theirs["items"] == []
