"""Each village's 说事日: the day of the month (1–28) its villagers raise matters for
the 村民说事 workflow (workflows/shuoshi/v1.toml), set by an administrator, and its
next occurrence (docs/decisions.md "The 说事日")."""

from __future__ import annotations

from datetime import date

from deliberation import offerings
from deliberation.accounts import _manager
from deliberation.clock import china_today
from deliberation.database import write_transaction
from deliberation.errors import NotFound
from deliberation.schemas import VillageRead
from deliberation.security_log import CLI, Actor, log
from deliberation.tables import Village
from deliberation.topics import valid_id
from deliberation.workdays import WorkingDays, working_days


def _month_day(year: int, month: int, day: int, calendar: WorkingDays) -> date:
    """The ``day`` of that month, or the first working day after it when it is not one
    (a weekend or a public holiday, on the project's calendar)."""
    found = date(year, month, day)
    while not calendar.is_workday(found)[0]:
        found = date.fromordinal(found.toordinal() + 1)
    return found


def next_shuoshi_day(day: int, today: date, calendar: WorkingDays | None = None) -> date:
    """The next 说事日 on or after ``today``: this month's if it has not passed, else
    next month's; moved to the next working day when it falls on a day off."""
    calendar = calendar or WorkingDays()
    this = _month_day(today.year, today.month, day, calendar)
    if this >= today:
        return this
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return _month_day(year, month, day, calendar)


WEEKDAYS = "一二三四五六日"


def day_words(day: date) -> str:
    """``12月15日（星期二）``: how the pages name a 说事日 (a day of the coming weeks, so
    without its year)."""
    return f"{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


async def next_day_of(village_id: int | None) -> date | None:
    """The village's next 说事日, or None when it has none set (or no village is named)."""
    if village_id is None:
        return None
    row = await Village.select(Village.shuoshi_day).where(Village.id == village_id).first()
    if row is None or row["shuoshi_day"] is None:
        return None
    return next_shuoshi_day(int(row["shuoshi_day"]), china_today(), await working_days())


async def village_read(row: dict[str, object]) -> VillageRead:
    """A village as the API shows it, with its 说事日 and the next one."""
    day = row.get("shuoshi_day")
    upcoming = (
        next_shuoshi_day(int(day), china_today(), await working_days())  # type: ignore[call-overload]
        if day is not None
        else None
    )
    return VillageRead(
        id=int(row["id"]),  # type: ignore[call-overload]
        name=str(row["name"]),
        township_id=int(row["township"]),  # type: ignore[call-overload]
        workflows=offerings.offered_keys(row.get("offered_workflows"), "village"),  # type: ignore[arg-type]
        shuoshi_day=day,  # type: ignore[arg-type]
        next_shuoshi_day=upcoming,
        registered_villagers=row.get("registered_villagers"),  # type: ignore[arg-type]
    )


async def read_village(village_id: int) -> VillageRead:
    if not valid_id(village_id):
        raise NotFound("村（社区）不存在")
    row = await Village.select().where(Village.id == village_id).first()
    if row is None:
        raise NotFound("村（社区）不存在")
    return await village_read(row)


async def set_shuoshi_day(village_id: int, day: int | None, actor: Actor = CLI) -> VillageRead:
    """Set (or with None, clear) a village's 说事日; the range (1–28) is the schema's."""
    _manager(actor)
    if not valid_id(village_id):
        raise NotFound("村（社区）不存在")
    async with write_transaction():
        row = await Village.select(Village.name).where(Village.id == village_id).first()
        if row is None:
            raise NotFound("村（社区）不存在")
        await Village.update({Village.shuoshi_day: day}).where(Village.id == village_id)
        shown = f"每月{day}日" if day is not None else "未设置"
        await log("village.shuoshi_day", actor=actor, detail=f"{row['name']}：说事日{shown}")
    return await read_village(village_id)
