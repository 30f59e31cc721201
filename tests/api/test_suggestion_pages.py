"""Villagers' suggestions on the pages (issue 27, I6), httpx against the app with page
sessions: the public form (no account), the answer with the reference, its problems
and its limit; who sees a pending suggestion; supports and paper sheets; the office's
original with its marks, correction and screening; the public list, the office's
queue, 我的建议 on /me and the topic page's source line."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from html import unescape

import httpx
import msgspec
import pytest
from litestar import Litestar

from api.pages.suggestions import progress_of
from deliberation.tables import Suggestion, SuggestionEvent
from tests.api.test_sessions_end import page_client
from tests.api.test_suggestions import VALID_ID, fresh_address, phone
from tests.conftest import client_from
from tests.world import Township, World, new_township, unique


async def anonymous(app: Litestar) -> httpx.AsyncClient:
    """A villager's browser: no account, its own address, the CSRF token of a page."""
    client = client_from(app, fresh_address())
    await client.get("/suggestions/new")
    token = client.cookies.get("csrftoken") or ""
    client.cookies.delete("csrftoken")
    client.cookies.set("csrftoken", token)
    client.headers["x-csrftoken"] = token
    return client


async def file_one(app: Litestar, t: Township, **extra: str) -> tuple[int, str]:
    """A suggestion filed on the public form; its id and reference."""
    client = await anonymous(app)
    form = {
        "village_id": str(t.villages[0]["id"]),
        "title": unique("村口路灯不亮"),
        "content": f"晚上出行不便。我的身份证号{VALID_ID}，电话13800001111。",
        "submitter_name": "王小明",
        "submitter_phone": phone(),
        **extra,
    }
    answer = await client.post("/suggestions/new", data=form)
    assert answer.status_code == 303, answer.text[-800:]
    reference = answer.headers["location"].rsplit("=", 1)[1]
    row = await Suggestion.select(Suggestion.id).where(Suggestion.reference == reference).first()
    assert row is not None
    return row["id"], reference


@pytest.fixture
async def town(world: World) -> AsyncIterator[Township]:
    yield await new_township(world, "建议页面镇")


async def page(client: httpx.AsyncClient, url: str, status: int = 200) -> str:
    answer = await client.get(url)
    assert answer.status_code == status, (url, answer.status_code, answer.text[-800:])
    return unescape(answer.text)


async def test_the_public_form_files_without_an_account_and_says_what_happens_next(
    app: Litestar, town: Township
) -> None:
    client = await anonymous(app)
    form = await page(client, "/suggestions/new")
    assert town.villages[0]["name"] in form and "只有乡镇协商办公室能看到" in form
    assert 'hx-trigger="keyup changed delay:300ms"' in form
    # A village's poster fixes the village: no select, its name said.
    fixed = await page(client, f"/suggestions/new?village={town.villages[1]['id']}")
    assert 'id="fixed-village"' in fixed and town.villages[1]["name"] in fixed
    assert '<select id="village_id"' not in fixed

    suggestion_id, reference = await file_one(app, town)
    assert re.fullmatch(r"JY-\d{4}-\d{4,}", reference)
    done = await page(client, f"/suggestions/filed?reference={reference}")
    assert reference in done and "接下来" in done
    # The filer has no account: the suggestion itself is not theirs to read.
    await page(client, f"/suggestions/{suggestion_id}", 404)
    await page(client, "/suggestions/filed?reference=<script>", 404)


async def test_the_form_names_each_problem_and_writes_nothing(
    app: Litestar, town: Township
) -> None:
    client = await anonymous(app)
    before = await Suggestion.count()
    answer = await client.post(
        "/suggestions/new",
        data={
            "village_id": str(town.villages[0]["id"]),
            "title": "路灯",
            "content": "坏了",
            "submitter_name": "王小明",
            "submitter_phone": "12345",
        },
    )
    assert answer.status_code == 422
    text = unescape(answer.text)
    assert 'id="submitter_phone-error"' in text and "11位手机号码" in text
    assert 'value="王小明"' in text  # what was typed stays
    missing = await client.post("/suggestions/new", data={"title": "路灯", "content": "坏了"})
    assert missing.status_code == 422
    assert "请填写手机号码" in unescape(missing.text)
    assert "请选择所在的村（社区）" in unescape(missing.text)
    assert await Suggestion.count() == before


async def test_too_many_filings_come_back_with_the_minutes_to_wait(
    app: Litestar, town: Township
) -> None:
    limits = app.state.suggestion_limits
    app.state.suggestion_limits = replace(limits, per_client=1)
    try:
        client = await anonymous(app)
        form = {
            "village_id": str(town.villages[0]["id"]),
            "title": unique("河道清淤"),
            "content": "河道淤积。",
            "submitter_name": "李四",
        }
        first = await client.post("/suggestions/new", data={**form, "submitter_phone": phone()})
        assert first.status_code == 303
        again = await client.post("/suggestions/new", data={**form, "submitter_phone": phone()})
    finally:
        app.state.suggestion_limits = limits
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) >= 1
    assert re.search(r"提交太频繁，请 \d+ 分钟后再试", unescape(again.text))
    assert form["title"] in unescape(again.text)  # the form comes back filled in


async def test_who_sees_a_pending_suggestion_and_a_representative_supports_it(
    app: Litestar, world: World, town: Township
) -> None:
    suggestion_id, reference = await file_one(app, town)
    url = f"/suggestions/{suggestion_id}"
    await page(await anonymous(app), url, 404)
    other_village = await page_client(app, town["representative2"].user["username"])
    await page(other_village, url, 404)
    other_township = await page_client(app, world.b["representative"].user["username"])
    await page(other_township, url, 404)

    representative = await page_client(app, town["representative"].user["username"])
    seen = await page(representative, url)
    assert "未审核" in seen and "**************002X" in seen and "138****1111" in seen
    assert VALID_ID not in seen and "13800001111" not in seen and "王小明" not in seen
    assert 'id="support-form"' in seen and 'id="paper-form"' in seen
    answer = await representative.post(f"{url}/support", data={})
    assert answer.status_code == 303
    after = await page(representative, answer.headers["location"])
    assert "已附议" in after
    assert re.search(r'id="support-representatives">1<', after)
    # Once per account: the page says why, nothing is added.
    twice = await representative.post(f"{url}/support", data={})
    assert twice.status_code == 409 and "只能附议一次" in unescape(twice.text)

    # A liaison's support is shown, and said not to count toward one fifth.
    liaison = await page_client(app, town["liaison"].user["username"])
    assert (await liaison.post(f"{url}/support", data={})).status_code == 303
    shown = await page(liaison, url)
    assert "委员（联络员）附议 1 人" in shown and "不计入五分之一" in shown

    # A paper sheet: one name a line; an empty sheet is refused next to the field.
    empty = await representative.post(f"{url}/paper", data={"names": "  \n"})
    assert empty.status_code == 422 and 'id="paper-names-error"' in empty.text
    paper = await representative.post(
        f"{url}/paper", data={"names": "张三\n李四\n", "sheet_note": "村委会存"}
    )
    assert paper.status_code == 303
    # The filer, the representative, the liaison and the two names on the sheet.
    assert re.search(r'id="support-total">5<', await page(representative, url))
    mine = await page(representative, "/me")
    line = mine[mine.index('id="my-suggestions"') :]
    line = line[line.index(reference) : line.index("</li>", line.index(reference))]
    # The village's one representative is one fifth of its roster: it must be listed.
    assert "我附议的" in line and "须列入" in line and "审核期限" in line


async def test_the_office_sees_the_original_corrects_and_accepts_it_into_a_topic(
    app: Litestar, town: Township
) -> None:
    suggestion_id, reference = await file_one(app, town)
    url = f"/suggestions/{suggestion_id}"
    staff = await page_client(app, town["staff"].user["username"])
    seen = await page(staff, url)
    assert f'<mark title="公开为 **************002X">{VALID_ID}</mark>' in seen
    assert 'id="submitter"' in seen and "王小明" in seen
    assert 'id="screen-form"' in seen and 'value="micro"' in seen
    assert "不属于本村（社区）公共事务" in seen  # the decline grounds, a select

    queue = await page(staff, "/suggestions/office")
    assert reference in queue.split('id="pending"')[1]
    representative = await page_client(app, town["representative"].user["username"])
    await page(representative, "/suggestions/office", 403)

    # A correction needs its reason.
    bare = await staff.post(f"{url}/correct", data={"public_title": "路灯不亮"})
    assert bare.status_code == 422 and 'id="correct-reason-error"' in bare.text
    fixed = await staff.post(
        f"{url}/correct", data={"public_title": "村口路灯不亮", "reason": "标题过长"}
    )
    assert fixed.status_code == 303
    # A decline needs a reason; accepting needs no reason, and opens the topic.
    declined = await staff.post(f"{url}/screen", data={"decision": "decline"})
    assert declined.status_code == 422 and 'id="screen-reason-error"' in declined.text
    accepted = await staff.post(f"{url}/screen", data={"decision": "accept", "workflow": "micro"})
    assert accepted.status_code == 303, accepted.text[-800:]
    row = (
        await Suggestion.select(Suggestion.status, Suggestion.topic)
        .where(Suggestion.id == suggestion_id)
        .first()
    )
    assert row is not None and row["status"] == "accepted" and row["topic"]
    result = await page(staff, url)
    assert 'id="became"' in result and "已列入议题" in result
    assert re.search(r'id="became">→ 议题 <a href="/topics/\d+">[^<]+</a>（发起）', result)
    # The office reads the topic: its list links it.
    assert f'href="/topics/{row["topic"]}"' in await page(staff, "/suggestions?tab=screened")

    topic = await page(staff, f"/topics/{row['topic']}")
    source = topic[topic.index(f'id="source-{suggestion_id}"') :]
    source = source[: source.index("</p>")]
    assert reference in source and "附议" in source and "审核" in source

    # Screened: the public list has it; its topic is not public yet (微协商 opens to
    # the public later), so only its reference is shown, unlinked.
    public = await page(await anonymous(app), "/suggestions")
    assert reference in public
    assert f'href="/topics/{row["topic"]}"' not in public
    await page(await anonymous(app), url)  # its public page
    kinds = [
        r["kind"]
        for r in await SuggestionEvent.select(SuggestionEvent.kind).where(
            SuggestionEvent.suggestion == suggestion_id
        )
    ]
    assert kinds[-1] == "suggestion.screened"
    # Screened once: a second screening is refused with the reason on the page.
    again = await staff.post(f"{url}/screen", data={"decision": "accept", "workflow": "micro"})
    assert again.status_code == 409


async def test_a_decline_ground_fills_the_reason_and_a_merge_names_its_target(
    app: Litestar, town: Township
) -> None:
    first_id, first_ref = await file_one(app, town)
    second_id, _ = await file_one(app, town)
    staff = await page_client(app, town["staff"].user["username"])
    unknown = await staff.post(
        f"/suggestions/{second_id}/screen",
        data={"decision": "merge", "merge_into": "JY-1999-9999", "reason": "同一事项"},
    )
    assert unknown.status_code == 422 and "没有这个编号" in unescape(unknown.text)
    merged = await staff.post(
        f"/suggestions/{second_id}/screen",
        data={"decision": "merge", "merge_into": first_ref, "reason": "同一事项"},
    )
    assert merged.status_code == 303, merged.text[-500:]
    ground = "不属于本村（社区）公共事务、仅涉及个人诉求"
    declined = await staff.post(
        f"/suggestions/{first_id}/screen", data={"decision": "decline", "ground": ground}
    )
    assert declined.status_code == 303, declined.text[-500:]
    public = await page(await anonymous(app), f"/suggestions/{first_id}")
    assert "不予列入" in public and ground in public


async def test_the_similar_list_under_the_title(app: Litestar, town: Township) -> None:
    suggestion_id, _ = await file_one(app, town, title=unique("村东头水渠堵塞"))
    client = await anonymous(app)
    # A pending suggestion is not the public's: nothing of it.
    part = await page(
        client, f"/suggestions/similar?title=村东头水渠&village_id={town.villages[0]['id']}"
    )
    assert f"/suggestions/{suggestion_id}" not in part
    representative = await page_client(app, town["representative"].user["username"])
    mine = await page(representative, "/suggestions/similar?title=村东头水渠堵塞")
    assert f"/suggestions/{suggestion_id}" in mine and "可请本村代表附议" in mine
    assert (await client.get("/suggestions/similar?title=水渠&village_id=abc")).status_code == 200


async def test_members_get_tabs_and_the_public_does_not(app: Litestar, town: Township) -> None:
    _, reference = await file_one(app, town)
    public = await page(await anonymous(app), "/suggestions")
    assert 'aria-label="建议分类"' not in public and reference not in public
    representative = await page_client(app, town["representative"].user["username"])
    pending = await page(representative, "/suggestions?tab=pending")
    assert 'aria-label="建议分类"' in pending and reference in pending
    assert reference not in await page(representative, "/suggestions?tab=must_list")
    await page(representative, "/suggestions?page=0", 422)


async def test_bad_paths_answer_pages_that_say_so(app: Litestar, town: Township) -> None:
    client = await anonymous(app)
    await page(client, "/suggestions/2147483000", 404)
    await page(client, "/plans/2147483000", 404)
    for url in ("/suggestions/office", "/plans/new", "/plans/row?n=2"):
        answer = await client.get(url)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    # A form posted by someone who may not: the answer says why, nothing changes.
    suggestion_id, _ = await file_one(app, town)
    representative = await page_client(app, town["representative"].user["username"])
    refused = await representative.post(
        f"/suggestions/{suggestion_id}/screen", data={"decision": "accept", "workflow": "micro"}
    )
    assert refused.status_code == 403
    status = await Suggestion.select(Suggestion.status).where(Suggestion.id == suggestion_id)
    assert status[0]["status"] == "pending"
    not_staff = await representative.post("/plans/new", data={"year": "2027"})
    assert not_staff.status_code == 403
    other = await page_client(app, town["representative2"].user["username"])
    assert (await other.post(f"/suggestions/{suggestion_id}/support", data={})).status_code == 404
    # A post without the page's CSRF token is refused.
    bare = client_from(app, fresh_address())
    assert (await bare.post("/suggestions/new", data={"title": "x"})).status_code == 403


def test_progress_on_me_counts_toward_one_fifth_of_the_representatives() -> None:
    """已达 1/3 and 2/3 of the supports one fifth requires (27 representatives: 6)."""

    from deliberation.clock import utcnow
    from deliberation.suggestions.schemas import SuggestionRead
    from deliberation.suggestions.threshold import Settings, Tally

    now = utcnow()
    pending = SuggestionRead(
        id=1, reference="JY-2027-0001", township_id=1, village_id=1, title="t", content="c",
        status="pending", status_label="征集附议中", supports=0, supports_representatives=0,
        screening_due_on=None, must_list_at=None, topic_id=None, revision=1,
        created_at=now, updated_at=now, view="masked",
    )  # fmt: skip
    rules = Settings(representatives=27, registered_villagers=None)
    assert [progress_of(pending, Tally(representatives=n), rules) for n in (1, 2, 3, 4, 5)] == [
        "",
        "已达 1/3",
        "已达 1/3",
        "已达 2/3",
        "已达 2/3",
    ]
    assert (
        progress_of(pending, Tally(), Settings(representatives=0, registered_villagers=None)) == ""
    )
    must = msgspec.structs.replace(pending, status="must_list")
    assert progress_of(must, None, None) == "须列入"
    done = msgspec.structs.replace(pending, status="declined", status_label="不予列入")
    assert progress_of(done, None, None) == "审核结果：不予列入"


async def test_the_public_timeline_names_roles_never_people(app: Litestar, town: Township) -> None:
    suggestion_id, _ = await file_one(app, town)  # by a villager without an account
    url = f"/suggestions/{suggestion_id}"
    for who in ("liaison", "representative"):
        supporter = await page_client(app, town[who].user["username"])
        assert (await supporter.post(f"{url}/support", data={})).status_code == 303
    staff = await page_client(app, town["staff"].user["username"])
    accepted = await staff.post(f"{url}/screen", data={"decision": "accept", "workflow": "micro"})
    assert accepted.status_code == 303, accepted.text[-800:]

    seen = await page(await anonymous(app), url)
    timeline = seen[seen.index('id="timeline"') : seen.index("</ol>", seen.index('id="timeline"'))]
    lines = [" ".join(re.sub(r"<[^>]+>", "", li).split()[2:]) for li in timeline.split("<li>")[1:]]
    assert lines == [
        "提出建议 → 征集附议中 · 村民",
        "附议 → 征集附议中 · 村民",  # the filer's own
        "附议 → 征集附议中 · 委员",
        "附议 → 征集附议中 · 代表",
        "附议达到法定人数，须列入议题 → 须列入议题",  # the rule met: nobody's doing
        "审核 → 已列入议题 · 乡镇协商办公室",
    ], lines
    assert "王" not in timeline and "测试" not in timeline  # no one's name
