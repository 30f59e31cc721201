"""docs/workflows.md describes every key a workflow file may have."""

from __future__ import annotations

import re
from pathlib import Path

from workflows import RECORD_TYPES, REQUIREMENT_KINDS, VIEWS
from workflows.loader import COUNTED_FROM, KEYS, SCOPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"


def test_every_key_and_value_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`\[{0,2}([a-z_]+)", text))
    expected = {key for keys in KEYS.values() for key in keys}
    expected |= {*REQUIREMENT_KINDS, *RECORD_TYPES, *VIEWS, *COUNTED_FROM, *SCOPES}
    assert sorted(expected - named) == []
