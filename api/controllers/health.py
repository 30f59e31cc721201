from __future__ import annotations

from litestar import get

from deliberation.health import database_answers
from deliberation.schemas import Health


@get("/healthz", operation_id="health", tags=["health"], opt={"exclude_from_auth": True})
async def health() -> Health:
    await database_answers()
    return Health(status="ok")
