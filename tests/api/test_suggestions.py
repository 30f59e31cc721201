"""Filing a suggestion (议题建议) and reading it back (issue 27, I2): who sees what,
masking, the office's correction, similar titles and the public form's limits."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from litestar import Litestar

from deliberation import audit
from deliberation.tables import Suggestion
from tests.conftest import client_from
from tests.world import Township, World, new_township, unique

VALID_ID = "11010519491231002X"
MASKED_ID = "**************002X"

_hosts = itertools.count(1)
_run = secrets.randbelow(200) + 20


def fresh_address() -> str:
    """An address no other test files from (the limits count per client)."""
    n = next(_hosts)
    return f"10.{_run}.{n // 250}.{n % 250 + 1}"


def fresh_client(app: Litestar) -> httpx.AsyncClient:
    return client_from(app, fresh_address())


_phones = itertools.count(secrets.randbelow(10**6) * 1000)


def phone() -> str:
    return f"139{next(_phones) % 10**8:08d}"


def body(t: Township, *, village: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "title": unique("村口路灯不亮"),
        "content": "晚上出行不便，希望修好路灯。",
        "village_id": t.villages[village]["id"],
        "submitter_name": "王小明",
        "submitter_phone": phone(),
        **extra,
    }


async def screened(t: Township, suggestion_id: int, decision: str = "decline") -> None:
    """The office screens it (``POST …/screening``): declined with a public reason, or
    accepted as a micro-consultation topic."""
    body: dict[str, Any] = (
        {"decision": "accept", "workflow": "micro"}
        if decision == "accept"
        else {"decision": "decline", "reason": "不属于协商事项"}
    )
    r = await t["staff"].post(f"/api/v1/suggestions/{suggestion_id}/screening", body)
    assert r.status_code == 200, r.text


async def test_filed_without_an_account_is_invisible_to_the_public_and_other_villages(
    world: World, app: Litestar
) -> None:
    t, other = world.a, world.b
    anonymous = fresh_client(app)
    secret_phone = phone()
    filed = await anonymous.post(
        "/api/v1/suggestions",
        json=body(
            t,
            title="王小明家门口的路灯坏了",
            content=f"我是王小明，身份证{VALID_ID}，电话{secret_phone}，请联系我。",
            submitter_phone=secret_phone,
        ),
    )
    assert filed.status_code == 201, filed.text
    created = filed.json()
    assert created["status"] == "pending" and created["reference"].startswith("JY-")
    assert "title" not in created and "content" not in created
    sid = created["id"]
    path = f"/api/v1/suggestions/{sid}"

    # The public, the other village's representative and another township: not found.
    assert (await anonymous.get(path)).status_code == 404
    listed = (await anonymous.get("/api/v1/suggestions", params={"township_id": t.id})).json()
    assert sid not in [s["id"] for s in listed["items"]]
    assert (await t["representative2"].get(path)).status_code == 404
    assert (await other["representative"].get(path)).status_code == 404
    assert (await other["staff"].get(path)).status_code == 404
    assert (await anonymous.get(f"{path}/events")).status_code == 404

    # The same village's representative: the masked text only, marked as such.
    seen = await t["representative"].get(path)
    assert seen.status_code == 200, seen.text
    masked = seen.json()
    assert masked["view"] == "masked"
    assert masked["title"] == "王某家门口的路灯坏了"
    assert MASKED_ID in masked["content"] and VALID_ID not in seen.text
    assert f"{secret_phone[:3]}****{secret_phone[-4:]}" in masked["content"]
    assert secret_phone not in seen.text and "王小明" not in seen.text
    assert masked["original"] is None and masked["submitter"] is None

    # The office: the original, what was masked, and who filed it.
    office = (await t["staff"].get(path)).json()
    assert office["view"] == "office"
    assert VALID_ID in office["original"]["content"]
    assert office["submitter"] == {
        "name": "王小明",
        "phone": secret_phone,
        "filed_by": None,
        "entered_by": None,
    }
    kinds = sorted((m["field"], m["kind"]) for m in office["masks"])
    assert kinds == [
        ("content", "filer_name"),
        ("content", "id_number"),
        ("content", "mobile"),
        ("title", "filer_name"),
    ]
    span = next(m for m in office["masks"] if m["kind"] == "id_number")
    assert office["original"]["content"][span["start"] : span["end"]] == VALID_ID
    staff_list = (await t["staff"].get("/api/v1/suggestions")).json()
    assert sid in [s["id"] for s in staff_list["items"]]

    # Once screened, the public reads it: masked as the representative did.
    await screened(t, sid)
    public = await anonymous.get(path)
    assert public.status_code == 200 and public.json()["view"] == "public"
    assert MASKED_ID in public.json()["content"] and VALID_ID not in public.text
    assert secret_phone not in public.text and public.json()["submitter"] is None
    listed = (await anonymous.get("/api/v1/suggestions", params={"township_id": t.id})).json()
    assert sid in [s["id"] for s in listed["items"]]
    assert VALID_ID not in str(listed) and secret_phone not in str(listed)


async def test_the_filing_rules(world: World, app: Litestar) -> None:
    t = world.a
    anonymous = fresh_client(app)
    missing = await anonymous.post(
        "/api/v1/suggestions", json={"title": "修桥", "content": "桥坏了"}
    )
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    assert {e["field"] for e in missing.json()["errors"]} == {
        "submitter_name",
        "submitter_phone",
        "village_id",
    }
    bad_phone = await anonymous.post("/api/v1/suggestions", json=body(t, submitter_phone="12345"))
    assert bad_phone.status_code == 422
    assert [e["field"] for e in bad_phone.json()["errors"]] == ["submitter_phone"]
    nowhere = await anonymous.post("/api/v1/suggestions", json=body(t, village_id=2**31 - 1))
    assert nowhere.status_code == 422
    assert [e["field"] for e in nowhere.json()["errors"]] == ["village_id"]
    unknown = await anonymous.post("/api/v1/suggestions", json={**body(t), "status": "accepted"})
    assert unknown.status_code == 422
    full_width = await anonymous.post(
        "/api/v1/suggestions", json=body(t, submitter_phone="+86 １３９-０００１-２３４５")
    )
    assert full_width.status_code == 201, full_width.text

    # Signed in: no name or phone (the account says who filed it).
    rep = t["representative"]
    refused = await rep.post("/api/v1/suggestions", body(t))
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"submitter_name", "submitter_phone"}
    own = await rep.post(
        "/api/v1/suggestions",
        {"title": unique("垃圾清运"), "content": "垃圾没人收。", "village_id": t.villages[0]["id"]},
    )
    assert own.status_code == 201, own.text
    read = (await rep.get(f"/api/v1/suggestions/{own.json()['id']}")).json()
    assert read["view"] == "own"
    # Naming no village, a representative's suggestion is of their own village.
    theirs = await rep.post(
        "/api/v1/suggestions", {"title": unique("路灯"), "content": "路灯坏了。"}
    )
    assert theirs.status_code == 201, theirs.text
    assert (await rep.get(f"/api/v1/suggestions/{theirs.json()['id']}")).json()["village_id"] == (
        t.villages[0]["id"]
    )
    # Another village's representative may not file for this one.
    elsewhere = await t["representative2"].post(
        "/api/v1/suggestions",
        {"title": "修路", "content": "路坏了。", "village_id": t.villages[0]["id"]},
    )
    assert elsewhere.status_code == 403


async def test_a_correction_needs_a_reason_and_is_on_the_chain(world: World, app: Litestar) -> None:
    t = world.a
    filed = await fresh_client(app).post(
        "/api/v1/suggestions",
        json=body(t, content="组长张建国答应过修，但一直没修。"),
    )
    sid = filed.json()["id"]
    path = f"/api/v1/suggestions/{sid}"
    office = (await t["staff"].get(path)).json()
    assert any(f["kind"] == "name" for f in office["flags"])  # 请核对: another person's name

    no_reason = await t["staff"].patch(path, {"public_content": "组长张某答应过修。"})
    assert no_reason.status_code == 422
    assert [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
    blank = await t["staff"].patch(path, {"public_content": "x", "reason": "  "})
    assert blank.status_code == 422
    assert (
        await t["representative"].patch(path, {"reason": "改", "public_title": "x"})
    ).status_code in (403, 404)
    assert (
        await world.b["staff"].patch(path, {"reason": "改", "public_title": "x"})
    ).status_code == 404

    corrected = await t["staff"].patch(
        path,
        {
            "public_content": "组长张某答应过修，但一直没修。电话13900001111",
            "reason": "隐去组长姓名",
        },
    )
    assert corrected.status_code == 200, corrected.text
    now = corrected.json()
    # Masked again: the phone typed into the correction is not public either.
    assert now["content"] == "组长张某答应过修，但一直没修。电话139****1111"
    assert now["revision"] == office["revision"] + 1
    assert now["original"]["content"] == "组长张建国答应过修，但一直没修。"
    seen = (await t["representative"].get(path)).json()
    assert seen["content"] == now["content"]

    events = (await t["staff"].get(f"{path}/events")).json()
    assert [e["kind"] for e in events][:1] == ["suggestion.filed"]
    last = events[-1]
    assert last["kind"] == "suggestion.corrected" and last["comment"] == "隐去组长姓名"
    assert last["actor_id"] == t["staff"].user["id"]
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))
    # The audit finds the filing, the filer's support and the correction all vouched.
    _, problems = await audit.verify_chains()
    assert [p for p in problems if p.reference == office["reference"]] == []


async def test_forty_posts_from_one_client_file_ten(
    world: World, app: Litestar, move_clock: Callable[[float], None]
) -> None:
    t = world.a
    address = fresh_address()
    one = client_from(app, address)
    answers = await asyncio.gather(
        *[one.post("/api/v1/suggestions", json=body(t)) for _ in range(40)]
    )
    assert Counter(a.status_code for a in answers) == {201: 10, 429: 30}
    for refused in (a for a in answers if a.status_code == 429):
        assert refused.json()["code"] == "rate_limited"
        assert "提交太频繁" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
    assert await Suggestion.count().where(Suggestion.client == address) == 10
    move_clock(3600 + 1)  # the hour has passed
    assert (await one.post("/api/v1/suggestions", json=body(t))).status_code == 201


async def test_one_phone_from_forty_clients_files_three(world: World, app: Litestar) -> None:
    t = world.a
    same = phone()
    answers = await asyncio.gather(
        *[
            fresh_client(app).post("/api/v1/suggestions", json=body(t, submitter_phone=same))
            for _ in range(40)
        ]
    )
    assert Counter(a.status_code for a in answers) == {201: 3, 429: 37}
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
    # The same number written another way is the same phone.
    spaced = f"+86 {same[:3]} {same[3:7]} {same[7:]}"
    again = await fresh_client(app).post(
        "/api/v1/suggestions", json=body(t, submitter_phone=spaced)
    )
    assert again.status_code == 429


async def test_similar_titles_follow_what_the_caller_may_read(world: World, app: Litestar) -> None:
    t = await new_township(world, "相似镇")  # its accepted suggestion opens a topic there
    word = unique("水塘清淤")
    pending = (
        await fresh_client(app).post(
            "/api/v1/suggestions", json=body(t, title=f"{word}工程尽快开工")
        )
    ).json()
    public_one = (
        await fresh_client(app).post("/api/v1/suggestions", json=body(t, title=f"{word}工程开工"))
    ).json()
    await screened(t, public_one["id"], "accept")
    params = {"title": f"{word}工程开工", "village_id": t.villages[0]["id"]}

    def ids(answer: httpx.Response) -> set[int]:
        assert answer.status_code == 200, answer.text
        return {s["id"] for s in answer.json()["suggestions"]}

    assert ids(await fresh_client(app).get("/api/v1/suggestions/similar", params=params)) == {
        public_one["id"]
    }
    assert ids(await t["representative"].get("/api/v1/suggestions/similar", params=params)) == {
        pending["id"],
        public_one["id"],
    }
    assert ids(await t["representative2"].get("/api/v1/suggestions/similar", params=params)) == {
        public_one["id"]
    }
    assert ids(await t["staff"].get("/api/v1/suggestions/similar", params=params)) == {
        pending["id"],
        public_one["id"],
    }
    unlike = await fresh_client(app).get(
        "/api/v1/suggestions/similar", params={"title": "完全无关的标题内容"}
    )
    assert unlike.status_code == 200
    assert public_one["id"] not in {s["id"] for s in unlike.json()["suggestions"]}
    short = await fresh_client(app).get("/api/v1/suggestions/similar", params={"title": "水"})
    assert short.status_code == 200 and short.json() == {"suggestions": [], "topics": []}


async def test_a_signed_in_account_files_twenty_a_day(world: World) -> None:
    t = await new_township(world, "限建议镇")
    liaison = t["liaison"]
    answers = [
        await liaison.post(
            "/api/v1/suggestions", {"title": unique("渡口"), "content": "渡船老旧。"}
        )
        for _ in range(21)
    ]
    assert [a.status_code for a in answers] == [201] * 20 + [429]
    assert int(answers[-1].headers["retry-after"]) > 23 * 3600  # the first of the day's 20
    # Another account of the same township is not held back by it.
    other = await t["liaison2"].post(
        "/api/v1/suggestions", {"title": "修路", "content": "路坏了。"}
    )
    assert other.status_code == 201


async def test_a_representative_filing_in_a_village_of_one_is_must_list_at_once(
    world: World,
) -> None:
    t = await new_township(world, "一代表镇")  # one representative a village
    rep = t["representative"]
    filed = await rep.post(
        "/api/v1/suggestions",
        {"title": unique("村口排水沟"), "content": "雨天积水。", "village_id": t.villages[0]["id"]},
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "must_list"  # 1 × 5 ≥ 1: their own support counts
    office = (await t["staff"].get(f"/api/v1/suggestions/{filed.json()['id']}")).json()
    assert office["status"] == "must_list" and office["screening_due_on"] is not None
    events = (await t["staff"].get(f"/api/v1/suggestions/{filed.json()['id']}/events")).json()
    kinds = [e["kind"] for e in events]
    assert kinds == ["suggestion.filed", "support.added", "suggestion.must_list"]
    # A liaison's own support is shown, not counted: filed, still pending.
    theirs = await t["liaison"].post(
        "/api/v1/suggestions",
        {"title": unique("村口排水沟"), "content": "雨天积水。", "village_id": t.villages[0]["id"]},
    )
    assert theirs.status_code == 201 and theirs.json()["status"] == "pending", theirs.text
    _, problems = await audit.verify_chains()
    mine = {filed.json()["id"], theirs.json()["id"]}
    assert [p.reason for p in problems if p.chain == "suggestion" and p.owner_id in mine] == []
