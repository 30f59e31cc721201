"""Two applications in one process never see each other's engine, key or clock
(docs/decisions.md, "One application context")."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from api.app import create_app
from api.settings import Settings
from deliberation import chain, clock
from deliberation.database import bound_engine
from deliberation.tables import Township
from tests.cli import run_cli
from tests.conftest import client_from
from tests.live import lifespan
from tests.world import PASSWORD, Actor, World, open_topic, sign_in


async def test_a_command_run_in_this_process_leaves_the_callers_context_alone(
    world: World, tmp_path: Path
) -> None:
    engine, key, offset = bound_engine(), chain.current_key(), clock.offset_seconds()
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert run_cli(other, "migrate", cwd=tmp_path).returncode == 0
    made = run_cli(other, "township", "create", "另库镇", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    # The command wrote to its own database, with its own engine; ours is as it was.
    assert bound_engine() is engine and chain.current_key() == key
    assert clock.offset_seconds() == offset
    assert not await Township.exists().where(Township.name == "另库镇")
    assert await open_topic(world.a)  # and the suite's application still serves


async def test_two_applications_serve_side_by_side_from_their_own_databases(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    other_url = f"sqlite:///{tmp_path / 'side.sqlite3'}"
    assert run_cli(other_url, "migrate", cwd=tmp_path).returncode == 0
    assert run_cli(other_url, "township", "create", "旁镇", cwd=tmp_path).returncode == 0
    admin = ["--username", "side-admin", "--role", "admin", "--display-name", "旁管理员"]
    made = run_cli(other_url, "user", "create", *admin, "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    other = create_app(dataclasses.replace(settings, database_url=other_url))
    async with lifespan(other), client_from(other) as other_client:
        theirs = await sign_in(other_client, "side-admin")

        async def townships(actor: Actor) -> set[str]:
            response = await actor.get("/api/v1/townships")
            assert response.status_code == 200, response.text
            return {t["name"] for t in response.json()}

        # Interleaved: each answer comes from its own application's database.
        answers = await asyncio.gather(*(townships(a) for a in [world.admin, theirs] * 10))
        assert all(a == {"旁镇"} for a in answers[1::2])
        assert all(a and "旁镇" not in a for a in answers[0::2])
        # Its writes go to its own database.
        opened = await theirs.post("/api/v1/townships", {"name": "旁二镇"})
        assert opened.status_code == 201, opened.text
    # The other application stopped; ours still serves from our database.
    assert bound_engine() is not None and not await Township.exists().where(Township.name == "旁镇")
    assert await townships(world.admin)
    assert not await Township.exists().where(Township.name == "旁二镇")
