"""The baseline: a bare Litestar JSON endpoint, served exactly like the real app."""

from litestar import Litestar, get


@get("/bench/json")
async def bare_json() -> dict[str, object]:
    return {"id": 1, "title": "基准", "state": "proposed", "version": 1}


def create() -> Litestar:
    return Litestar([bare_json])
