"""Lets the plain ``piccolo`` CLI work from the project root; the real conf is in the package."""

from deliberation.piccolo_conf import *  # noqa: F403
from deliberation.piccolo_conf import APP_REGISTRY, DEFAULT_DATABASE_URL, __getattr__  # noqa: F401
