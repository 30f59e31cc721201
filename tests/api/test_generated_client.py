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
from typing import Any

from tests.api.test_documents import create, publish
from tests.live import serving
from tests.world import PASSWORD, World, new_township, topic_in_state

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


async def test_a_generated_client_downloads_files_and_reads_errors(
    world: World, migrated: str, tmp_path: Path
) -> None:
    schema = (await world.client.get("/schema/openapi.json")).json()
    run = generate(schema, tmp_path)
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    assert "Warning" not in said and "WARNING" not in said, said
    [project] = [p for p in tmp_path.iterdir() if p.is_dir()]
    sys.path.insert(0, str(project))
    try:
        client_module = importlib.import_module(PACKAGE)
        document_pdf = importlib.import_module(f"{PACKAGE}.api.documents.document_pdf")
        topic_archive = importlib.import_module(f"{PACKAGE}.api.topics.topic_archive")
        issue_token = importlib.import_module(f"{PACKAGE}.api.auth.issue_token")
        types = importlib.import_module(f"{PACKAGE}.types")
        models = importlib.import_module(f"{PACKAGE}.models")
    finally:
        sys.path.remove(str(project))

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
