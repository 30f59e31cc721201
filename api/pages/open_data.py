"""公开数据: the open data's page (what each file holds, every field, the licence) and
its newest build, the ZIP and each file at a stable address (public)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from api.pages.signin import PageController
from deliberation import open_data
from deliberation.context import current
from deliberation.errors import NotFound

SERVED = {  # Litestar adds "; charset=utf-8" to text/* itself
    open_data.LATEST: "application/zip",
    "README.md": "text/markdown",
    "LICENSE.txt": "text/plain",
    open_data.NESTED_STATISTICS: "application/json",
    open_data.PACKAGE: "application/json",
    **{f"{f.name}.csv": "text/csv" for f in open_data.FILES},
    **{f"{f.name}.json": "application/json" for f in open_data.FILES},
}


async def _newest(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The newest build's note; built now if there is none yet (a new installation, or
    the worker has not run today's yet and never ran before)."""
    settings = request.app.state.settings
    folder = settings.open_data_dir
    build = open_data.last_build(folder)
    if build is None or not (folder / open_data.LATEST).exists():
        async with current().kept("open_data.first_build", asyncio.Lock):
            build = open_data.last_build(folder)
            if build is None or not (folder / open_data.LATEST).exists():
                await open_data.write(folder, settings.public_url)
                build = open_data.last_build(folder)
    assert build is not None
    return build


class OpenDataController(PageController):
    path = "/open-data"

    @get("/", operation_id="open_data_page")
    async def page(self, request: Request[Any, Any, Any]) -> Template:
        build = await _newest(request)
        return Template(
            "open_data.html",
            context={
                "build": build,
                "generated_at": build["generated_at"][:16].replace("T", " "),
                "files": open_data.data_files(),
                "title": open_data.TITLE,
                "licence_name": open_data.LICENCE_NAME,
                "licence_url": open_data.LICENCE_URL,
                "latest": open_data.LATEST,
            },
        )

    @get("/{name:str}", operation_id="open_data_file")
    async def file(self, request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
        """The ZIP, or one of its files, from the newest build."""
        if name not in SERVED:
            raise NotFound("没有这个公开数据文件")
        await _newest(request)
        try:
            body = (request.app.state.settings.open_data_dir / name).read_bytes()
        except FileNotFoundError:
            raise NotFound("这个文件要等下一次更新才有") from None
        headers = {"Cache-Control": "public, max-age=600"}
        if name == open_data.LATEST:
            headers["Content-Disposition"] = 'attachment; filename="open-data.zip"'
        return Response(body, media_type=SERVED[name], headers=headers)
