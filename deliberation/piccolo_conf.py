"""Piccolo configuration for the ``piccolo`` CLI and the migration runner.

``DB`` is looked up lazily: the engine bound by the application (or, for the
plain ``piccolo`` CLI, one built from ``DELIBERATION_DATABASE_URL``).
"""

from __future__ import annotations

import os
from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["deliberation.piccolo_app"])

DEFAULT_DATABASE_URL = "sqlite:///var/deliberation.sqlite3"


def __getattr__(name: str) -> Any:
    if name == "DB":
        from deliberation import database

        if not database.has_engine():
            url = os.environ.get("DELIBERATION_DATABASE_URL", DEFAULT_DATABASE_URL)
            database.bind_engine(database.engine_for_url(url))
        return database.bound_engine()
    raise AttributeError(name)
