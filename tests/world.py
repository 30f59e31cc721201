"""Test data built through the API: two townships with accounts, and topics
walked to any state of the workflow."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec

from deliberation import accounts
from deliberation.clock import china_today
from deliberation.schemas import UserCreate, UserRead
from deliberation.security import Principal
from workflows import WORKFLOW

PASSWORD = "correct-horse-battery"
_run = secrets.token_hex(3)
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{_run}{next(_counter)}"


@dataclass
class Actor:
    """A signed-in user and the client they use."""

    client: httpx.AsyncClient
    token: str
    user: dict[str, Any]

    @property
    def principal(self) -> Principal:
        """The same caller, for calling the services directly."""
        return accounts.principal_of(msgspec.convert(self.user, UserRead))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.client.put(path, json=json, headers=self.headers, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.client.patch(path, json=json, headers=self.headers, **kwargs)


@dataclass
class Township:
    id: int
    name: str
    villages: list[dict[str, Any]]
    actors: dict[str, Actor] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Actor:
        return self.actors[key]


@dataclass
class World:
    client: httpx.AsyncClient
    admin: Actor
    a: Township
    b: Township
    supervisor: Actor
    """The county supervisor (县政协督办): no township, reads every township's topics."""

    def by_role(self, role: str) -> Actor:
        """The township A account of ``role`` (its admin belongs to township A), or the
        county supervisor (of no township)."""
        return self.supervisor if role == "supervisor" else self.a[role]


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> Actor:
    response = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Actor(client, body["access_token"], body["user"])


async def _township(client: httpx.AsyncClient, admin: Actor, label: str) -> Township:
    t = (await admin.post("/api/v1/townships", {"name": unique(label)})).json()
    villages = [
        (await admin.post("/api/v1/villages", {"name": f"{n}村", "township_id": t["id"]})).json()
        for n in ("金山", "新街")
    ]
    township = Township(t["id"], t["name"], villages)
    specs = {
        "admin": ("admin", None),
        "liaison": ("liaison", None),
        "liaison2": ("liaison", None),
        "staff": ("staff", None),
        "representative": ("representative", villages[0]["id"]),
        "representative2": ("representative", villages[1]["id"]),
        "village_cadre": ("village_cadre", villages[0]["id"]),
    }
    for key, (role, village_id) in specs.items():
        username = unique(key[:6])
        response = await admin.post(
            "/api/v1/users",
            {
                "username": username,
                "password": PASSWORD,
                "display_name": f"测试{key}",
                "role": role,
                "township_id": t["id"],
                "village_id": village_id,
            },
        )
        assert response.status_code == 201, response.text
        township.actors[key] = await sign_in(client, username)
    return township


async def build_world(client: httpx.AsyncClient) -> World:
    admin_name = unique("admin")
    await accounts.create_user(
        UserCreate(username=admin_name, password=PASSWORD, display_name="测试管理员", role="admin")
    )
    admin = await sign_in(client, admin_name)
    a = await _township(client, admin, "甲镇")
    b = await _township(client, admin, "乙镇")
    supervisor_name = unique("dubanz")
    response = await admin.post(
        "/api/v1/users",
        {
            "username": supervisor_name,
            "password": PASSWORD,
            "display_name": "测试督办",
            "role": "supervisor",
        },
    )
    assert response.status_code == 201, response.text
    return World(client, admin, a, b, await sign_in(client, supervisor_name))


# Topics -----------------------------------------------------------------------------

PATH = WORKFLOW.main_path


def days_from_today(days: int) -> str:
    """A China date ``days`` from today, as the API takes it (``2026-12-31``)."""
    return (today() + timedelta(days=days)).isoformat()


def today() -> date:
    """Today in China on the project's clock (which the test run may have shifted)."""
    return china_today()


async def open_topic(t: Township, title: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "title": title or unique("村道硬化议题"),
        "description": "村里道路坑洼,雨天难行,请求硬化。",
        **extra,
    }
    response = await t["liaison"].post("/api/v1/topics", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def fire(
    actor: Actor, topic: dict[str, Any], trigger: str, comment: str = ""
) -> httpx.Response:
    current = (await actor.get(f"/api/v1/topics/{topic['id']}")).json()
    return await actor.post(
        f"/api/v1/topics/{topic['id']}/transitions",
        {"trigger": trigger, "version": current["version"], "comment": comment},
    )


async def satisfy(t: Township, topic: dict[str, Any], requirement: str) -> None:
    """Add the record(s) that meet ``requirement`` on ``topic``."""
    tid = topic["id"]
    staff, liaison = t["staff"], t["liaison"]
    if requirement == "investigation_recorded":
        r = await liaison.post(
            f"/api/v1/topics/{tid}/investigations",
            {
                "visited_on": str(today()),
                "place": "三组",
                "participants": "联络员、群众",
                "findings": "问题属实",
            },
        )
    elif requirement == "site_consultation_recorded":
        r = await liaison.post(
            f"/api/v1/topics/{tid}/site-consultations",
            {
                "held_on": str(today()),
                "place": "村委会",
                "participants": "村两委",
                "summary": "形成初步意见",
            },
        )
    elif requirement == "meeting_scheduled":
        r = await staff.post(
            f"/api/v1/topics/{tid}/meetings",
            # Held yesterday: its minutes can be recorded now (never before the meeting).
            {
                "scheduled_at": f"{today() - timedelta(days=1)}T09:30:00+08:00",
                "place": "镇会议室",
                "host": "陈主任",
            },
        )
    elif requirement == "minutes_recorded":
        meetings = (await staff.get(f"/api/v1/topics/{tid}/meetings")).json()
        r = await staff.put(
            f"/api/v1/meetings/{meetings[-1]['id']}/minutes",
            {
                "summary": "与会人员充分协商",
                "decisions": "明确牵头单位和时限",
                "attendees": [
                    {"name": "陈国强", "unit": "政协联络委", "attendance": "present"},
                    {"name": "赵丽", "unit": "财政所", "attendance": "on_leave"},
                    {"name": "李秀英", "unit": "村民代表", "attendance": "observer"},
                ],
            },
        )
    elif requirement == "resolution_item_added":
        r = await staff.post(
            f"/api/v1/topics/{tid}/resolution-items",
            {
                "content": "硬化道路1.2公里",
                "responsible_unit": "镇村建办",
                "due_date": str(today() + timedelta(days=30)),
            },
        )
    elif requirement == "items_completed":
        for item in (await staff.get(f"/api/v1/topics/{tid}/resolution-items")).json():
            r = await staff.post(
                f"/api/v1/resolution-items/{item['id']}/progress",
                {"note": "已完工验收", "percent": 100, "completed": True},
            )
            assert r.status_code == 201, r.text
        return
    elif requirement == "satisfaction_rated":
        r = await t["representative"].post(
            f"/api/v1/topics/{tid}/satisfaction", {"rating": "satisfied"}
        )
    elif requirement == "comment_given":
        return
    elif requirement == "resolution_notice_published":
        r = await staff.post(f"/api/v1/topics/{tid}/documents", {"kind": "resolution_notice"})
        assert r.status_code == 201, r.text
        r = await staff.post(f"/api/v1/documents/{r.json()['id']}/publish", {})
    else:  # pragma: no cover - a new requirement needs a satisfier here
        raise AssertionError(f"no satisfier for {requirement}")
    assert r.status_code in (200, 201), r.text


def path_trigger(source: str, dest: str) -> str:
    for transition in WORKFLOW.transitions:
        if source in transition.sources and transition.dest == dest:
            return transition.trigger
    raise AssertionError(f"no trigger {source} -> {dest}")


async def topic_in_state(t: Township, state: str, **extra: Any) -> dict[str, Any]:
    """Open a topic and walk it to ``state``, meeting each requirement on the way."""
    return await walk(t, await open_topic(t, **extra), state)


async def step(t: Township, topic: dict[str, Any], source: str, dest: str) -> None:
    """Move ``topic`` from ``source`` to ``dest``, meeting each requirement first."""
    transition = WORKFLOW.transition(path_trigger(source, dest))
    for requirement in transition.requires:
        await satisfy(t, topic, requirement.name)
    actor = t["liaison"] if "liaison" in transition.roles else t["staff"]
    response = await fire(actor, topic, transition.trigger, comment="推进")
    assert response.status_code == 200, response.text


async def walk(t: Township, topic: dict[str, Any], state: str) -> dict[str, Any]:
    """Walk a just-opened topic to ``state``, meeting each requirement on the way."""
    if state in ("rejected", "withdrawn"):
        trigger = "reject" if state == "rejected" else "withdraw"
        actor = t["staff"] if state == "rejected" else t["liaison"]
        response = await fire(actor, topic, trigger, comment="测试原因")
        assert response.status_code == 200, response.text
        return dict(response.json())
    for source, dest in itertools.pairwise(PATH[: PATH.index(state) + 1]):
        await step(t, topic, source, dest)
    return dict((await t["staff"].get(f"/api/v1/topics/{topic['id']}")).json())


async def new_township(world: World, label: str = "丙镇") -> Township:
    """A township of its own (with every kind of account), for tests whose events
    must not mix with other tests'."""
    return await _township(world.client, world.admin, label)
