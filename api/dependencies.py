"""Named dependencies the app provides to handlers (besides the signed-in caller)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from deliberation.documents import Publishing


def provide_publishing(request: Request[Any, Any, Any]) -> Publishing:
    publishing: Publishing = request.app.state.publishing
    return publishing


CurrentPublishing = NamedDependency[Publishing]
"""Handler parameter type for the document services' renderer and URLs."""
