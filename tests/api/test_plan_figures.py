"""Plan against delivery (issue 27, docs/plans/issue-27-plan.md §8): a township's annual
plan and the county's, counted by quarter from their latest published version, equal
counts taken straight from the tables on a generated year: items whose topic opened
early, late (by the China date: half past eleven at night on the quarter's last day is
still on time, half past midnight after it is not) or never, directly or through the
suggestion they came from, some of them completed; a superseded version is ignored."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from deliberation.clock import CHINA, utcnow
from deliberation.statistics import quarter_end
from deliberation.tables import Plan, PlanEvent, PlanItem, PlanVersion, Suggestion, Topic
from tests.api.suggestion_seed import MADE_PLANS, MADE_SUGGESTIONS, MADE_TOPICS, take_out_made
from tests.world import Township, World, new_township, unique


@pytest.fixture(autouse=True)
async def _off_the_chain_rows_taken_out() -> AsyncIterator[None]:
    yield
    await take_out_made()


YEAR = 2025
STATES = ("proposed", "investigated", "meeting", "closed")


def china(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA).astimezone(UTC)


async def topic_at(t: Township, opened: datetime, state: str) -> int:
    [row] = await Topic.insert(
        Topic(
            reference=unique("T"),
            title="计划内议题",
            description="",
            category="",
            township=t.id,
            state=state,
            opened_by=t["staff"].user["id"],
            created_at=opened,
            updated_at=opened,
            search_text="",
            search_grams="",
            workflow_key="standard",
            workflow_version=1,
        )
    ).returning(Topic.id)
    MADE_TOPICS.append(row["id"])
    return int(row["id"])


async def suggestion_of(t: Township, topic_id: int | None) -> int:
    now = datetime(YEAR, 1, 2, tzinfo=UTC)
    [row] = await Suggestion.insert(
        Suggestion(
            reference=unique("JY"),
            township=t.id,
            title="建议",
            content="",
            public_title="建议",
            public_content="",
            status="accepted" if topic_id else "pending",
            topic=topic_id,
            created_at=now,
            updated_at=now,
        )
    ).returning(Suggestion.id)
    MADE_SUGGESTIONS.append(row["id"])
    return int(row["id"])


async def plan_of(township_id: int | None, by: int, year: int = YEAR) -> tuple[int, int]:
    """A plan with a superseded first version (its items must be ignored) and a published
    second: the ids of the plan and of the published version."""
    now = datetime(YEAR, 1, 5, tzinfo=UTC)
    [plan] = await Plan.insert(
        Plan(year=year, township=township_id, reference=unique("JH"), created_at=now)
    ).returning(Plan.id)
    MADE_PLANS.append(plan["id"])
    ids = []
    for version, status in ((1, "superseded"), (2, "published")):
        [row] = await PlanVersion.insert(
            PlanVersion(
                plan=plan["id"],
                version=version,
                status=status,
                created_by=by,
                created_at=now,
                published_by=by,
                published_at=now,
            )
        ).returning(PlanVersion.id)
        ids.append(row["id"])
    for quarter in range(1, 5):  # the superseded version planned a lot more
        for position in range(5):
            await PlanItem.insert(
                PlanItem(
                    plan_version=ids[0],
                    position=quarter * 10 + position,
                    quarter=quarter,
                    title="旧计划",
                    workflow_key="standard",
                    lead_unit="镇政府",
                )
            )
    return plan["id"], ids[1]


async def generate(t: Township, version_id: int, rng: random.Random, n: int) -> None:
    """``n`` items over the quarters, each opened early, late or never (directly or
    through its suggestion), its topic in some state."""
    for position in range(n):
        quarter = rng.randint(1, 4)
        end = quarter_end(YEAR, quarter)
        how = rng.choice(("early", "edge_in", "edge_out", "late", "never", "pending"))
        topic = suggestion = None
        if how != "never":
            opened = {
                "early": china(end - timedelta(days=rng.randint(1, 80)), 10),
                "edge_in": china(end, 23, 30),  # 15:30 UTC: still the quarter's last day
                "edge_out": china(end + timedelta(days=1), 0, 30),  # the day before in UTC
                "late": china(end + timedelta(days=rng.randint(2, 60)), 10),
                "pending": None,
            }[how]
            if opened is not None:
                topic = await topic_at(t, opened, rng.choice(STATES))
            if how == "pending" or rng.random() < 0.5:
                suggestion = await suggestion_of(t, topic)
                topic = None if rng.random() < 0.7 else topic  # or named on the item too
        await PlanItem.insert(
            PlanItem(
                plan_version=version_id,
                position=position,
                quarter=quarter,
                title=f"计划议题{position}",
                workflow_key="standard",
                lead_unit="镇政府",
                suggestion=suggestion,
                topic=topic,
            )
        )


async def direct(version_id: int) -> dict[int, tuple[int, int, int, int]]:
    """Per quarter (planned, opened, opened on time, closed), counted in the database."""
    own, via = PlanItem.topic, PlanItem.suggestion.topic
    found = {}
    for quarter in range(1, 5):
        end = datetime.combine(quarter_end(YEAR, quarter) + timedelta(days=1), time(), CHINA)
        mine = (PlanItem.plan_version == version_id, PlanItem.quarter == quarter)
        found[quarter] = (
            await PlanItem.count().where(*mine),
            await PlanItem.count().where(*mine, own.is_not_null() | via.id.is_not_null()),
            await PlanItem.count().where(
                *mine, (own.created_at < end) | (own.is_null() & (via.created_at < end))
            ),
            await PlanItem.count().where(
                *mine, (own.state == "closed") | (own.is_null() & (via.state == "closed"))
            ),
        )
    return found


def counted(figures: dict[str, Any]) -> dict[int, tuple[int, int, int, int]]:
    return {
        q["quarter"]: (q["planned"], q["opened"], q["opened_on_time"], q["closed"])
        for q in figures["quarters"]
    }


async def test_plan_figures_equal_direct_counts_on_a_generated_year(world: World) -> None:
    rng = random.Random(27)
    t = await new_township(world, "计划镇")
    _, township_version = await plan_of(t.id, t["staff"].user["id"])
    await generate(t, township_version, rng, 60)
    county, county_version = await plan_of(None, world.supervisor.user["id"])
    await generate(t, county_version, rng, 25)
    expected = await direct(township_version)
    # The generated year has every case: on time, late, never, completed.
    assert sum(e[2] for e in expected.values()) < sum(e[1] for e in expected.values())
    assert sum(e[3] for e in expected.values()) > 0 and sum(e[1] for e in expected.values()) < 60
    for who in (t["staff"], world.supervisor, None):  # the plan is public: the same to all
        answer = await (who or world.client).get(
            "/api/v1/statistics", params={"township_id": t.id, "year": YEAR}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        [mine] = body["townships"]
        plan = mine["plan"]
        assert (plan["year"], plan["version"], plan["plan_id"]) == (YEAR, 2, township_version)
        assert counted(plan) == expected
        totals = plan["totals"]
        assert (
            totals["planned"],
            totals["opened"],
            totals["opened_on_time"],
            totals["closed"],
        ) == tuple(sum(e[k] for e in expected.values()) for k in range(4))
        # The county's plan apart, never inside a township's figures.
        assert body["county_plan"]["plan_id"] == county_version
        assert counted(body["county_plan"]) == await direct(county_version)
    everyone = (await world.client.get("/api/v1/statistics", params={"year": YEAR})).json()
    assert everyone["total"]["plan"] is None
    assert everyone["county_plan"]["totals"]["planned"] == 25
    other = next(f for f in everyone["townships"] if f["township_id"] == world.a.id)
    assert other["plan"] is None  # no plan published there

    # Linking an item to its topic is an event on the plan's chain: the next answer has it.
    never = await PlanItem.objects().get(
        (PlanItem.plan_version == township_version)
        & PlanItem.topic.is_null()
        & PlanItem.suggestion.is_null()
    )
    assert never is not None
    quarter = never.quarter
    never.topic = await topic_at(t, china(quarter_end(YEAR, quarter), 9), "closed")
    await never.save()
    await PlanEvent.insert(
        PlanEvent(
            plan=county,  # any plan's event moves the stamp
            seq=1,
            kind="plan.item_linked",
            trigger="link",
            to_state="published",
            created_at=utcnow(),
            prev_hash="0" * 64,
            hash="1" * 64,
        )
    )
    again = (
        await t["staff"].get("/api/v1/statistics", params={"township_id": t.id, "year": YEAR})
    ).json()["townships"][0]["plan"]
    planned, opened, on_time, closed = expected[quarter]
    assert counted(again)[quarter] == (planned, opened + 1, on_time + 1, closed + 1)


async def test_the_statistics_page_shows_the_plan_by_quarter(world: World) -> None:
    t = await new_township(world, "计划页镇")
    _, version = await plan_of(t.id, t["staff"].user["id"], year=2024)
    await generate(t, version, random.Random(1), 3)
    page = await world.client.get("/statistics", params={"year": 2024, "township": t.id})
    assert page.status_code == 200, page.text
    assert "年度协商计划执行情况" in page.text and "第 2 版" in page.text
    assert "第四季度" in page.text
    assert '<th scope="row">合计</th><td class="n">3</td>' in page.text
