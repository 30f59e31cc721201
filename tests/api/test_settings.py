"""Settings read from the environment: what a service gets when the environment says
nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api.settings import Settings, SettingsError
from deliberation import security


def test_production_settings_hash_passwords_at_argon2s_full_cost(tmp_path: Path) -> None:
    """The suite hashes at the cheapest cost (``DELIBERATION_PASSWORD_HASH_COST=test``,
    tests/conftest.py); a service whose environment names no cost hashes at argon2's
    full one (64 MiB, 3 passes, 4 lanes), as create_app applies it."""
    settings = Settings.from_env({"DELIBERATION_VAR_DIR": str(tmp_path)})
    assert settings.password_hash_cost == "production"
    security.use_hash_cost(settings.password_hash_cost)
    try:
        hashed = security.hash_password("a-long-password")
    finally:
        security.use_hash_cost(os.environ["DELIBERATION_PASSWORD_HASH_COST"])
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), hashed
    # argon2 reads the cost from the hash: a production hash verifies under any setting.
    assert security.verify_password(hashed, "a-long-password")
    with pytest.raises(SettingsError, match="DELIBERATION_PASSWORD_HASH_COST"):
        Settings.from_env(
            {"DELIBERATION_VAR_DIR": str(tmp_path), "DELIBERATION_PASSWORD_HASH_COST": "cheap"}
        )
