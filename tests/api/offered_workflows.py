"""A folder of workflows for the offerings tests: the shipped standard one, a second
township-scope one (``tiny``) and a village-scope one (``vtiny``), each with a one-line
summary (only ``standard`` ships on main; tests load the others themselves)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.api.test_workflow_catalog import TINY
from workflows.registry import HERE as SHIPPED
from workflows.registry import Registry

TINY_SUMMARY = "先征求意见五个工作日，再由工作人员决定：适用于小事。"
VILLAGE_SUMMARY = "村里的小事在村里商量：村干部发起，村民代表会议表决。"


def with_summary(text: str, summary: str) -> str:
    return text.replace('label = "小流程"', f'label = "小流程"\nsummary = "{summary}"', 1)


def offerings_folder(folder: Path) -> Registry:
    shutil.copytree(SHIPPED / "standard", folder / "standard")
    tiny = TINY.read_text(encoding="utf-8")
    (folder / "tiny").mkdir()
    (folder / "tiny" / "v1.toml").write_text(with_summary(tiny, TINY_SUMMARY), encoding="utf-8")
    village = (
        with_summary(tiny, VILLAGE_SUMMARY)
        .replace('key = "tiny"', 'key = "vtiny"', 1)
        .replace('label = "小流程"', 'label = "村小流程"', 1)
        .replace('scope = "township"', 'scope = "village"', 1)
        .replace('openers = ["liaison"]', 'openers = ["liaison", "village_cadre"]', 1)
    )
    (folder / "vtiny").mkdir()
    (folder / "vtiny" / "v1.toml").write_text(village, encoding="utf-8")
    return Registry.load(folder)
