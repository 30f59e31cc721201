"""``/favicon.ico``, where browsers look for the site's icon (a red seal with 商)."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.response import File

ICON = Path(__file__).resolve().parents[2] / "templates" / "static" / "favicon.ico"


@get(
    "/favicon.ico",
    operation_id="favicon",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    cache_control=CacheControlHeader(max_age=86_400, public=True),
)
async def favicon() -> File:
    return File(ICON, media_type="image/x-icon", content_disposition_type="inline")
