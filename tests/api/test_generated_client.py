"""A client generated from the OpenAPI document with openapi-python-client and no config
(issue 25): no warnings, and against a served API its downloads are files (not
``UnexpectedStatus(200)``) and its documented errors come back as problem details."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.test_documents import create, publish
from tests.live import serving
from tests.world import PASSWORD, World, new_township, open_topic, topic_in_state

PACKAGE = "hao_shangliang_api_client"


def generate(schema: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "openapi.json").write_text(json.dumps(schema), encoding="utf-8")
    tools = str(Path(sys.executable).parent)  # its ruff, as the generator runs it after
    return subprocess.run(
        [str(Path(tools) / "openapi-python-client"), "generate", "--path", "openapi.json"],
        cwd=folder,
        env={**os.environ, "PATH": tools + os.pathsep + os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
async def generated(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client generated from the served document, without a warning: its project."""
    folder = tmp_path_factory.mktemp("generated")
    schema = (await world.client.get("/schema/openapi.json")).json()
    run = generate(schema, folder)
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    assert "Warning" not in said and "WARNING" not in said, said
    [project] = [p for p in folder.iterdir() if p.is_dir()]
    return project


def modules(project: Path, *names: str) -> list[ModuleType]:
    """The generated package's modules ``names`` (``""`` for the package itself)."""
    sys.path.insert(0, str(project))
    try:
        return [importlib.import_module(".".join(filter(None, (PACKAGE, n)))) for n in names]
    finally:
        sys.path.remove(str(project))


async def test_a_generated_client_downloads_files_and_reads_errors(
    world: World, migrated: str, generated: Path
) -> None:
    client_module, document_pdf, topic_archive, issue_token, types, models = modules(
        generated,
        "",
        "api.documents.document_pdf",
        "api.topics.topic_archive",
        "api.auth.issue_token",
        "types",
        "models",
    )

    t = await new_township(world, "生成镇")
    staff = t["staff"]
    topic = await topic_in_state(t, "feedback")
    notice = await publish(staff, (await create(staff, topic["id"], "resolution_notice"))["id"])

    with serving(migrated, DELIBERATION_DELIVERY_IN_SERVER="0") as server:
        public = client_module.Client(base_url=server.base, raise_on_unexpected_status=True)
        answer = document_pdf.sync_detailed(document_id=notice["id"], client=public)
        assert answer.status_code == 200
        assert isinstance(answer.parsed, types.File)
        assert answer.parsed.payload.read().startswith(b"%PDF-")

        missing = document_pdf.sync_detailed(document_id=10**9, client=public)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem) and missing.parsed.code == "not_found"

        asked = models.TokenRequest(username=staff.user["username"], password=PASSWORD)
        token = issue_token.sync(client=public, body=asked)
        assert isinstance(token, models.TokenResponse)
        signed_in = client_module.AuthenticatedClient(
            base_url=server.base, token=token.access_token, raise_on_unexpected_status=True
        )
        # A topic not yet closed has no archive bag: 409, documented, read as a problem.
        early = topic_archive.sync_detailed(topic_id=topic["id"], client=signed_in)
        assert early.status_code == 409
        assert isinstance(early.parsed, models.Problem)
        assert early.parsed.code == "transition_not_allowed", early.parsed.to_dict()
        assert "归档" in early.parsed.detail


async def test_a_generated_client_walks_the_pages(
    world: World, migrated: str, generated: Path
) -> None:
    """Issue 29: the client takes ``limit`` and ``after``, and the ``Link`` header of
    each answer (``sync_detailed``'s ``headers``) names the next page, to the last."""
    client_module, list_opinions, issue_token, models = modules(
        generated, "", "api.records.list_opinions", "api.auth.issue_token", "models"
    )
    t = await new_township(world, "翻页镇")
    topic = await open_topic(t, village_id=t.villages[0]["id"])
    made = []
    for n in range(7):
        answer = await t["representative"].post(
            f"/api/v1/topics/{topic['id']}/opinions", {"content": f"意见{n}", "stance": "support"}
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])

    with serving(migrated, DELIBERATION_DELIVERY_IN_SERVER="0") as server:
        public = client_module.Client(base_url=server.base, raise_on_unexpected_status=True)
        asked = models.TokenRequest(username=t["staff"].user["username"], password=PASSWORD)
        token = issue_token.sync(client=public, body=asked)
        staff = client_module.AuthenticatedClient(
            base_url=server.base, token=token.access_token, raise_on_unexpected_status=True
        )
        seen, pages, after = [], 0, None
        while True:
            kwargs = {"limit": 3} if after is None else {"limit": 3, "after": after}
            page = list_opinions.sync_detailed(topic_id=topic["id"], client=staff, **kwargs)
            assert page.status_code == 200
            assert all(isinstance(o, models.OpinionRead) for o in page.parsed)
            seen += [o.id for o in page.parsed]
            pages += 1
            link = page.headers.get("link")
            if link is None:
                break
            address = link.split(">", 1)[0].removeprefix("<")
            after = int(parse_qs(urlsplit(address).query)["after"][0])
        assert seen == made and pages == 3

        bad = list_opinions.sync_detailed(topic_id=topic["id"], client=staff, limit=501)
        assert bad.status_code == 400
        assert isinstance(bad.parsed, models.Problem) and bad.parsed.code == "bad_page"
