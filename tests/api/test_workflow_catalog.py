"""Issue 26 item 6, the workflows' public catalogue: ``/api/v1/workflows`` lists every
loaded workflow and ``/api/v1/workflows/{key}`` gives one whole, with its versions; the
public flowchart page ``/workflows/{key}`` shows each step's who, needs and basis (依据)
and each stage's time limit. No sign-in for any of it."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from tests.conftest import client_from
from workflows.declaration import ROLE_LABELS
from workflows.registry import HERE as SHIPPED
from workflows.registry import REGISTRY, Registry

TINY = Path(__file__).resolve().parents[1] / "workflows" / "valid_tiny.toml"


def text(fragment: str) -> str:
    """What a person reads in an HTML fragment: tags dropped, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


class _ById(HTMLParser):
    """The text inside the element with a given id, nested elements included."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "wbr"})

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def by_id(page: str, element_id: str) -> str:
    parser = _ById(element_id)
    parser.feed(page)
    assert parser.found, f"#{element_id} is not on the page"
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def stranger(app: Litestar) -> httpx.AsyncClient:
    """Nobody signed in."""
    return client_from(app)


@pytest.fixture
def two_workflows(app: Litestar, tmp_path: Path) -> Iterator[Registry]:
    """The app serving a registry loaded from a folder: the shipped files and one more
    workflow, in two versions."""
    shutil.copytree(SHIPPED / "standard", tmp_path / "standard")
    (tmp_path / "tiny").mkdir()
    shutil.copy(TINY, tmp_path / "tiny" / "v1.toml")
    second = TINY.read_text(encoding="utf-8")
    second = second.replace("version = 1", "version = 2", 1).replace("小流程", "小流程二", 1)
    (tmp_path / "tiny" / "v2.toml").write_text(second, encoding="utf-8")
    registry = Registry.load(tmp_path)
    app.state.workflows = registry
    try:
        yield registry
    finally:
        del app.state.workflows


async def test_the_list_has_every_loaded_workflow(stranger: httpx.AsyncClient) -> None:
    answer = await stranger.get("/api/v1/workflows")
    assert answer.status_code == 200
    listed = {w["key"]: w for w in answer.json()}
    assert set(listed) == set(REGISTRY.keys())
    standard = listed["standard"]
    shipped = REGISTRY.latest("standard")
    assert standard == {
        "key": "standard",
        "version": shipped.version,
        "label": "标准协商",
        "summary": shipped.summary,
        "basis": list(shipped.basis),
        "scope": "township",
        "openers": ["liaison", "staff"],
        "versions": [1],
    }


async def test_the_standard_declaration_is_whole_and_matches_the_registry(
    stranger: httpx.AsyncClient,
) -> None:
    answer = await stranger.get("/api/v1/workflows/standard")
    assert answer.status_code == 200
    got = answer.json()
    shipped = REGISTRY.get("standard", 1)
    assert (got["key"], got["version"], got["versions"]) == ("standard", 1, [1])
    assert got["initial"] == "proposed" and got["public_from"] == "resolution"
    assert got["main_path"] == list(shipped.main_path)
    assert [s["name"] for s in got["states"]] == list(shipped.state_names)
    assert [s["label"] for s in got["states"]] == [s.label for s in shipped.states]
    proposed = got["states"][0]
    assert proposed["time_limit"] == {
        "label": "完成调研",
        "working_days": 10,
        "counted_from": "entered",
        "window": False,
    }
    assert [t["trigger"] for t in got["transitions"]] == list(shipped.triggers)
    for read, declared in zip(got["transitions"], shipped.transitions, strict=True):
        assert read["sources"] == list(declared.sources) and read["dest"] == declared.dest
        assert read["roles"] == list(declared.roles)
        assert read["danger"] == declared.danger
        assert read["opener_only"] == declared.opener_only
        assert [r["name"] for r in read["requires"]] == [r.name for r in declared.requires]
    close = next(t for t in got["transitions"] if t["trigger"] == "close")
    assert close["requires"][0] == {
        "name": "items_completed",
        "label": "每项协商成果均已报告办结",
        "kind": "items_completed",
        "params": {"items_completed": "resolution_item"},
        "basis": "",
    }
    assert [r["name"] for r in got["records"]] == [r.name for r in shipped.records]
    assert [d["name"] for d in got["documents"]] == [d.name for d in shipped.documents]
    opinion = got["records"][0]
    assert opinion["read"]["public"] == "anonymous" and opinion["author_only"] is True
    assert [r["name"] for r in got["requirements"]] == [r.name for r in shipped.requirements]
    assert all("basis" in r for r in got["requirements"])
    assert (await stranger.get("/api/v1/workflows/standard?version=1")).json() == got


async def test_an_unknown_workflow_or_version_is_not_found(stranger: httpx.AsyncClient) -> None:
    for path, said in (
        ("/api/v1/workflows/nosuch", "没有名为“nosuch”的协商流程"),
        ("/api/v1/workflows/standard?version=2", "没有第 2 版（现有第 1 版）"),
    ):
        answer = await stranger.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["code"] == "not_found" and said in problem["detail"], problem
    answer = await stranger.get("/api/v1/workflows/standard?version=0")
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"


async def test_the_old_address_still_describes_the_standard_workflow(
    stranger: httpx.AsyncClient,
) -> None:
    old = (await stranger.get("/api/v1/workflow")).json()
    new = (await stranger.get("/api/v1/workflows/standard")).json()
    assert [s["name"] for s in old["states"]] == [s["name"] for s in new["states"]]
    assert [t["trigger"] for t in old["transitions"]] == [t["trigger"] for t in new["transitions"]]


async def test_a_second_workflow_file_shows_up_in_the_list_and_its_page(
    stranger: httpx.AsyncClient, two_workflows: Registry
) -> None:
    listed = (await stranger.get("/api/v1/workflows")).json()
    assert [w["key"] for w in listed] == ["standard", "tiny"]
    assert (listed[1]["version"], listed[1]["versions"], listed[1]["label"]) == (
        2,
        [1, 2],
        "小流程二",
    )
    tiny = (await stranger.get("/api/v1/workflows/tiny")).json()
    assert (tiny["version"], tiny["label"], tiny["versions"]) == (2, "小流程二", [1, 2])
    first = (await stranger.get("/api/v1/workflows/tiny?version=1")).json()
    assert (first["version"], first["label"], first["versions"]) == (1, "小流程", [1, 2])
    finish = next(t for t in tiny["transitions"] if t["trigger"] == "finish")
    quorum = next(r for r in finish["requires"] if r["kind"] == "quorum")
    assert quorum["basis"] == "村委会组织法第二十六条"
    assert quorum["params"]["attendance"] == ">= 2/3 roster"
    index = await stranger.get("/workflows")
    assert by_id(index.text, "workflow-tiny").startswith("小流程")
    page = await stranger.get("/workflows/tiny")
    assert page.status_code == 200
    # A requirement's own basis is said next to it.
    assert "村委会组织法第二十六条" in by_id(page.text, "step-deciding-finish")
    assert 'href="/workflows/tiny?version=1"' in page.text  # the other version, linked
    assert "<h1>小流程二</h1>" in page.text
    assert "<h1>小流程</h1>" in (await stranger.get("/workflows/tiny?version=1")).text
    # A window says it is one.
    assert "意见征集期" in by_id(page.text, "stage-open")


async def test_the_flowchart_shows_each_steps_basis_roles_and_needs(
    stranger: httpx.AsyncClient,
) -> None:
    answer = await stranger.get("/workflows/standard")
    assert answer.status_code == 200
    page = answer.text
    workflow = REGISTRY.get("standard", 1)
    general = "；".join(workflow.basis)
    assert general and by_id(page, "workflow-basis") == general
    for transition in workflow.transitions:
        for source in transition.sources:
            step = by_id(page, f"step-{source}-{transition.trigger}")
            assert transition.label in step, step
            assert workflow.state(transition.dest).label in step, step
            for role in transition.roles:
                assert ROLE_LABELS[role] in step, step
            for requirement in transition.requires:
                assert requirement.label in step, step
            basis = by_id(page, f"basis-{source}-{transition.trigger}")
            assert basis == (transition.basis or general), transition.trigger
    for state in workflow.states:
        stage = by_id(page, f"stage-{state.name}")
        assert state.label in stage
        if state.time_limit:
            assert state.time_limit.label in stage
    assert "自进入本环节之日起 10 个工作日内" in by_id(page, "stage-proposed")
    assert "自最近一次会议之日起 7 个工作日内" in by_id(page, "stage-meeting")
    assert "仅限提出议题的本人" in by_id(page, "step-proposed-withdraw")
    description = re.search(r'<meta name="description" content="([^"]+)">', page)
    assert description and "标准协商" in description.group(1)


async def test_the_pages_are_public_and_linked_from_the_landing_page(
    stranger: httpx.AsyncClient,
) -> None:
    landing = (await stranger.get("/")).text
    assert 'href="/workflows"' in landing
    index = await stranger.get("/workflows")
    assert index.status_code == 200
    assert 'href="/workflows/standard"' in index.text
    assert "标准协商" in by_id(index.text, "workflow-standard")
    missing = await stranger.get("/workflows/nosuch", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "没有名为“nosuch”的协商流程" in text(missing.text)


async def test_bad_addresses_are_refused_plainly(stranger: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/workflows/%00",
        "/api/v1/workflows/" + "x" * 65,
        "/api/v1/workflows/standard?version=abc",
        "/workflows/%00",
        "/workflows/standard?version=abc",
        "/workflows/standard?version=9",
    ):
        answer = await stranger.get(path, headers={"accept": "text/html"})
        assert 400 <= answer.status_code < 500, (path, answer.status_code)


async def test_the_openapi_document_names_both_operations(stranger: httpx.AsyncClient) -> None:
    paths = (await stranger.get("/schema/openapi.json")).json()["paths"]
    listed = paths["/api/v1/workflows"]["get"]
    one = paths["/api/v1/workflows/{key}"]["get"]
    assert (listed["operationId"], one["operationId"]) == (
        "list_workflows",
        "describe_workflow_by_key",
    )
    assert listed["security"] == [] and one["security"] == []  # no sign-in
    assert "404" in one["responses"] and "404" not in listed["responses"]
    assert "/workflows/{key}" not in paths  # the pages stay out of the API document


async def test_an_any_of_requirement_lists_its_alternatives(stranger: httpx.AsyncClient) -> None:
    """四议两公开's 决议: a 村民代表会议 or a 村民会议 (with its notice days)."""
    from workflows import REGISTRY

    siyi = REGISTRY.latest("siyi")
    declared = next((t, r) for t in siyi.transitions for r in t.requires if r.kind == "any_of")
    got = (await stranger.get(f"/api/v1/workflows/{siyi.key}")).json()
    step = next(t for t in got["transitions"] if t["trigger"] == declared[0].trigger)
    read = next(r for r in step["requires"] if r["name"] == declared[1].name)
    assert read["kind"] == "any_of"
    bodies = [a["params"]["body"] for a in read["any_of"]]
    assert bodies == [a.param("body") for a in declared[1].alternatives]
    assert any(a["params"].get("notice_days") == 10 for a in read["any_of"])
    assert all("any_of" not in r for r in step["requires"] if r["kind"] != "any_of")
