"""The demo: 黄金埠镇 with its villages, one account per role and a dozen topics
spread over every state; 港口镇 with three topics, one of them overdue; and the county
supervisor who watches both. Created through the same services the API uses, with
time: each topic was opened some working days or months ago and each stage entered on
a working day after the one before (``Story.ages``), the one clock set to each moment."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from deliberation import accounts, clock, documents, records, topics
from deliberation.clock import CHINA, china_today
from deliberation.documents import Publishing
from deliberation.schemas import (
    AttendeeIn,
    InvestigationCreate,
    MeetingCreate,
    MinutesUpdate,
    OpinionAnswer,
    OpinionCreate,
    ProgressCreate,
    ResolutionItemCreate,
    SatisfactionCreate,
    SiteConsultationCreate,
    TopicCreate,
    UserCreate,
    VoteCreate,
)
from deliberation.security import Principal
from deliberation.shuoshi_day import set_shuoshi_day
from deliberation.tables import Account, OutboxEvent, Topic, Township
from deliberation.workdays import WorkingDays, working_days
from workflows import REGISTRY, WORKFLOW, Transition, Workflow

TOWNSHIP = "黄金埠镇"
VILLAGES = ("金山村", "新街村", "塘背村", "渡口村", "黄金埠社区")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    display_name: str
    role: str
    village: str | None = None


ACCOUNTS = (
    DemoAccount("admin", "hsl-guanli-2026", "系统管理员", "admin"),
    DemoAccount("liaison", "hsl-lianluo-2026", "王建华（政协联络员）", "liaison"),
    DemoAccount("rep", "hsl-daibiao-2026", "李秀英（金山村代表）", "representative", "金山村"),
    DemoAccount("staff", "hsl-xieshang-2026", "张敏（协商办）", "staff"),
    DemoAccount("cadre", "hsl-cungan-2026", "刘春生（金山村村干部）", "village_cadre", "金山村"),
)


@dataclass(frozen=True)
class Story:
    """One demo topic and what happened to it, each with its own records: the visit,
    the site consultation, the meeting, the agreed items with the units that fit them,
    and what the village's representatives said."""

    title: str
    description: str
    category: str
    village: str | None
    target: str
    visit: tuple[str, str, str]
    """Where, who went, what they found."""
    consultation: tuple[str, str, str]
    """Where, who took part, what was said."""
    meeting: tuple[str, str, str]
    """Where, the meeting's summary, what it decided."""
    items: tuple[tuple[str, str, int], ...]
    """What was agreed, the unit in charge, due in how many days."""
    opinions: tuple[tuple[str, str], ...]
    """Stance and text of the representatives' opinions, in order."""
    progress: str = "已完成方案，正在组织实施。"
    ages: tuple[int, ...] = ()
    """When each stage was entered, in working days before today: the opening first,
    then each state of the main path up to ``target`` (a rejected or withdrawn topic:
    its opening and the decision). Strictly decreasing, every one at least 1."""
    meeting_age: int | None = None
    """A topic waiting in 会议协商: its meeting, in working days before today (negative:
    ahead). Otherwise the meeting is held the working day before the resolution."""


STORIES = (
    Story(
        "金山村村组道路硬化",
        "金山村三组至五组约1.2公里土路雨天泥泞，群众出行和农产品运输困难，建议硬化。",
        "交通",
        "金山村",
        "proposed",
        (
            "金山村三组至五组",
            "政协联络员王建华、村两委、群众代表5人",
            "土路1.2公里，雨天积水严重。",
        ),
        ("金山村委会", "镇交管站、村两委、群众代表10人", "群众愿意出工出力。"),
        ("镇政府三楼会议室", "", ""),
        (),
        (
            ("support", "三组到五组的路一下雨就走不了，希望尽快硬化。"),
            ("suggestion", "建议路面宽度不少于4.5米，方便农用车会车。"),
        ),
        ages=(4,),
    ),
    Story(
        "渡口村渡船安全管理",
        "渡口村渡船老旧，救生设备不足，汛期存在安全隐患，需明确管理责任。",
        "安全",
        "渡口村",
        "proposed",
        ("渡口村码头", "政协联络员、镇应急办", "渡船船龄超过15年。"),
        ("渡口村委会", "镇应急办、海事所、船工", "船工同意参加培训。"),
        ("镇政府三楼会议室", "", ""),
        (),
        (("oppose", "不同意停渡，学生每天要坐船上学。"),),
        ages=(2,),
    ),
    Story(
        "新街村农贸市场摊位规范",
        "新街农贸市场占道经营严重，摊位费标准不一，商户与群众意见较大。",
        "市场",
        "新街村",
        "investigated",
        (
            "新街农贸市场",
            "政协联络员王建华、镇市场监管所、商户代表4人",
            "占道摊位23个，收费标准3种，无公示。",
        ),
        ("新街村委会", "市场监管所、村两委、商户和群众代表15人", "多数商户同意入场经营。"),
        ("镇政府三楼会议室", "", ""),
        (),
        (
            ("suggestion", "建议早市时段允许菜农在指定区域临时摆卖。"),
            ("support", "支持统一收费标准并张榜公示。"),
        ),
        ages=(18, 9),
    ),
    Story(
        "塘背村排水沟清淤改造",
        "塘背村主排水沟多年未清淤，每逢暴雨农田和民房被淹。",
        "水利",
        "塘背村",
        "site_consultation",
        (
            "塘背村主排水沟沿线",
            "政协联络员王建华、镇水利站、受淹农户6户",
            "主沟淤积深约0.8米，涵管两处堵塞。",
        ),
        (
            "塘背村委会",
            "镇水利站、村两委、沿线农户18人",
            "农户同意清淤期间临时占用田埂，要求先疏通涵管。",
        ),
        ("镇政府三楼会议室", "", ""),
        (),
        (
            ("support", "每年七月都淹，盼望早点清淤。"),
            ("suggestion", "建议把两处涵管换成大口径的。"),
        ),
        ages=(26, 19, 3),
    ),
    Story(
        "黄金埠社区居家养老服务站",
        "社区独居老人增多，建议利用闲置用房建设居家养老服务站，提供助餐服务。",
        "养老",
        "黄金埠社区",
        "meeting",
        (
            "黄金埠社区老供销社用房",
            "政协联络员王建华、镇民政办、社区干部",
            "闲置用房约260平方米，结构完好。",
        ),
        (
            "黄金埠社区居委会",
            "镇民政办、社区干部、老人及家属代表14人",
            "老人最需要助餐，其次是日间照料。",
        ),
        ("镇政府三楼会议室", "会议听取民政办和社区的情况汇报，对选址和运营方式进行协商。", ""),
        (),
        (
            ("support", "独居老人吃饭是大问题，支持办助餐点。"),
            ("suggestion", "建议对八十岁以上老人助餐给予补贴。"),
        ),
        ages=(28, 20, 12, 4),
        meeting_age=-2,
    ),
    Story(
        "金山村饮用水水质提升",
        "金山村部分农户反映自来水浑浊，需排查管网并提升水质。",
        "饮水",
        "金山村",
        "meeting",
        (
            "金山村一组、二组农户家中",
            "政协联络员王建华、县自来水公司",
            "老旧管网锈蚀，雨后浊度超标。",
        ),
        (
            "金山村委会",
            "县自来水公司、村两委、用水户代表12人",
            "同意分段更换管网，施工期间分时供水。",
        ),
        (
            "镇政府三楼会议室",
            "会议听取自来水公司检测情况汇报，与会人员就管网更换方案充分协商。",
            "",
        ),
        (),
        (
            ("support", "水黄了好几个月了，支持尽快换管子。"),
            ("suggestion", "建议换管后请第三方再检测一次水质。"),
        ),
        ages=(35, 27, 18, 6),
        meeting_age=1,
    ),
    Story(
        "镇区路灯补装与维护",
        "镇区主干道部分路段无路灯，已装路灯损坏后维修不及时。",
        "市政",
        None,
        "resolution",
        ("镇区主干道及背街小巷", "政协联络员王建华、镇村建办", "无灯路段约1.6公里，损坏路灯31盏。"),
        ("黄金埠社区居委会", "镇村建办、供电所、居民代表11人", "居民希望先修坏灯、再补装新灯。"),
        (
            "镇政府三楼会议室",
            "会议听取村建办的排查情况，与会人员对补装范围和维护责任充分协商。",
            "一、补装主干道路灯并修复损坏路灯；二、建立路灯报修和维护机制。",
        ),
        (
            ("补装主干道无灯路段太阳能路灯48盏", "镇村建办", 45),
            ("修复损坏路灯31盏，公布报修电话", "镇供电所", 30),
        ),
        (("support", "晚上路太黑，老人不敢出门，支持补装。"),),
        ages=(40, 31, 22, 18, 11),
    ),
    Story(
        "新街村垃圾分类收运",
        "新街村垃圾收运不及时，建议设置分类投放点并明确收运时间。",
        "环境",
        "新街村",
        "resolution",
        ("新街村各村民小组", "政协联络员王建华、镇环卫所", "垃圾桶不足，收运每周仅两次。"),
        ("新街村委会", "镇环卫所、村两委、村民代表13人", "同意设置集中投放点，定时收运。"),
        (
            "镇政府三楼会议室",
            "会议听取环卫所收运情况汇报，就投放点设置和收运频次进行协商。",
            "一、增设分类投放点；二、收运改为每天一次。",
        ),
        (
            ("新街村增设分类投放点12处", "镇环卫所", 30),
            ("垃圾收运改为每天一次并公示时间", "新街村委会", 25),
        ),
        (("suggestion", "投放点不要设在学校门口。"), ("support", "支持每天收运。")),
        ages=(30, 22, 15, 12, 6),
    ),
    Story(
        "塘背村留守儿童课后托管",
        "塘背村留守儿童放学后无人看管，建议依托村小开设课后托管。",
        "教育",
        "塘背村",
        "feedback",
        (
            "塘背村小学及周边农户",
            "政协联络员王建华、镇中心小学、妇联",
            "留守儿童43名，放学后多由祖辈看管。",
        ),
        ("塘背村小学", "镇中心小学、妇联、家长代表16人", "家长希望托管到下午六点，并辅导作业。"),
        (
            "镇政府三楼会议室",
            "会议听取学校和妇联的情况汇报，就托管时间、师资和经费进行协商。",
            "一、依托村小开设课后托管；二、招募志愿者辅导作业。",
        ),
        (
            ("塘背村小开设课后托管班，每周一至五托管至18时", "镇中心小学", 40),
            ("招募大学生和退休教师志愿者8名", "镇妇联", 50),
        ),
        (("support", "孩子放学没人管，特别需要托管。"), ("suggestion", "建议托管时提供一顿点心。")),
        "托管班已开班，报名儿童38名。",
        ages=(45, 35, 26, 22, 15, 2),
    ),
    Story(
        "金山村高标准农田灌溉渠修复",
        "金山村灌溉渠渗漏严重，影响两百余亩农田灌溉。",
        "农业",
        "金山村",
        "closed",
        (
            "金山村灌溉渠沿线",
            "政协联络员王建华、镇农业农村办、种粮大户3人",
            "渠道渗漏段约800米，影响农田230亩。",
        ),
        (
            "金山村委会",
            "镇农业农村办、水利站、村两委、农户代表15人",
            "农户同意在农闲季节施工，渠道改为混凝土衬砌。",
        ),
        (
            "镇政府三楼会议室",
            "会议听取农业农村办的方案汇报，与会人员就施工时间和资金来源充分协商。",
            "一、渗漏段混凝土衬砌；二、农闲季节完成施工；三、完工后公示并接受群众评议。",
        ),
        (
            ("灌溉渠渗漏段800米混凝土衬砌", "镇农业农村办", 60),
            ("完工后组织农户验收并公示", "金山村委会", 75),
        ),
        (
            ("support", "渠道修好了，两百多亩田就不用愁水了。"),
            ("suggestion", "建议在渠首加装节制闸。"),
            ("oppose", "不同意在插秧季节施工。"),
        ),
        "衬砌工程已完工，农户验收合格。",
        ages=(100, 87, 79, 75, 72, 50, 40),
    ),
    Story(
        "镇区广场舞噪音扰民",
        "有群众反映晚间广场舞音量过大，影响附近居民休息，请求协调。",
        "治理",
        None,
        "rejected",
        ("黄金埠广场", "政协联络员王建华", "晚间音量较大。"),
        ("黄金埠社区居委会", "社区干部", "已协调。"),
        ("镇政府三楼会议室", "", ""),
        (),
        (("suggestion", "建议跳舞时间限定在晚上九点以前。"),),
        ages=(50, 47),
    ),
    Story(
        "金山村文化礼堂改建",
        "建议将金山村旧仓库改建为文化礼堂，用于村民议事和文艺活动。",
        "文化",
        "金山村",
        "withdrawn",
        ("金山村旧仓库", "政协联络员王建华", "仓库产权待确认。"),
        ("金山村委会", "村两委", "待定。"),
        ("镇政府三楼会议室", "", ""),
        (),
        (),
        ages=(65, 55),
    ),
)

REPRESENTATIVES = (
    ("金山村", ("李秀英", "刘国平", "陈桂兰", "周德明", "吴小燕", "郑长生")),
    ("新街村", ("王淑芬", "赵建军", "孙玉梅", "钱有福", "冯丽华", "杨光荣")),
    ("塘背村", ("黄春花", "徐志强", "朱冬梅", "胡立新", "何秋菊", "高文斌")),
    ("渡口村", ("罗金凤", "梁永红", "宋海波", "谢翠英", "韩大勇", "唐美玲")),
    ("黄金埠社区", ("许卫东", "邓小林", "曹玉兰", "彭建国", "曾丽娟", "萧宏伟")),
)
"""Thirty village representatives, six a village; the first is the demo account
``rep``, the others sign in as ``daibiao01`` … ``daibiao29`` with its password."""

ADOPTIONS = ("adopted", "partly_adopted", "not_adopted")
ANSWERS = {
    "adopted": "纳入实施方案，由责任单位按期落实。",
    "partly_adopted": "合理部分纳入实施方案，其余将在下一步工作中研究。",
    "not_adopted": "经会议协商，目前不具备实施条件，理由已在会上向代表说明。",
}
"""The reasons the office gives; the page shows the adoption's own label before them,
so a reason never repeats it (答复：已采纳 · 纳入实施方案…)."""
RATINGS = (
    ("satisfied", "渠道修好了，今年灌溉没问题。"),
    ("satisfied", "施工及时，验收也请了我们农户。"),
    ("basically_satisfied", "整体满意，渠首节制闸还没装。"),
)
"""The closed topic's ratings, by its village's first three representatives."""

SECOND_TOWNSHIP = "港口镇"
SECOND_VILLAGES = ("港口村", "河东村", "河西社区")
SECOND_ACCOUNTS = (
    DemoAccount("gk-lianluo", "hsl-lianluo-2026", "孙志刚（港口镇政协联络员）", "liaison"),
    DemoAccount("gk-xieshang", "hsl-xieshang-2026", "何丽（港口镇协商办）", "staff"),
)
SECOND_REPRESENTATIVES = (
    ("港口村", ("魏长顺", "蒋秀兰")),
    ("河东村", ("沈国华", "韦春燕")),
    ("河西社区", ("潘德胜", "葛玉珍")),
)
"""Two representatives a village, signing in as ``gkdaibiao01`` … ``gkdaibiao06`` with
the demo representative's password."""
SUPERVISOR = DemoAccount("xianzhengxie", "hsl-duban-2026", "刘振华", "supervisor")
OVERDUE_STORY = "港口村码头护栏修复"
"""The 港口镇 topic opened two months ago, investigated, and then left: its 完成现场协商
limit (10 working days) ran out a few working days ago, for the county to urge."""
OVERDUE_BY_WORKING_DAYS = 3
SECOND_STORIES = (
    Story(
        OVERDUE_STORY,
        "港口村老码头临水一侧护栏锈断约40米，夜间有落水危险，群众多次反映。",
        "安全",
        "港口村",
        "investigated",
        ("港口村老码头", "政协联络员孙志刚、镇交管站", "临水护栏锈断约40米，码头无照明。"),
        ("", "", ""),
        ("", "", ""),
        (),
        (("support", "码头晚上很黑，护栏要尽快修，最好加装路灯。"),),
        ages=(45, OVERDUE_BY_WORKING_DAYS + 10),
    ),
    Story(
        "河东村自来水管网改造",
        "河东村自来水管网铺设于上世纪九十年代，漏损严重，高处农户夏季经常停水。",
        "供水",
        "河东村",
        "site_consultation",
        (
            "河东村高处三个村民小组",
            "政协联络员孙志刚、镇水务站",
            "约60户夏季用水困难，主管漏损率高。",
        ),
        ("河东村委会", "村民代表、镇水务站、供水公司", "同意分两期改造，先改高处主管。"),
        ("镇政府二楼会议室", "", ""),
        (),
        (
            ("support", "一期先改高处主管，我们赞成。"),
            ("suggestion", "施工期间请提前通知停水时间。"),
        ),
        ages=(25, 18, 2),
    ),
    Story(
        "河西社区停车位规划",
        "河西社区老小区无停车位，车辆占用消防通道，建议利用闲置空地规划停车位。",
        "社区治理",
        "河西社区",
        "resolution",
        (
            "河西社区三个老小区",
            "政协联络员孙志刚、社区干部",
            "消防通道长期被占，闲置空地约800平方米。",
        ),
        (
            "河西社区居委会",
            "居民代表、社区民警、物业",
            "同意在闲置空地规划停车位，优先保障消防通道。",
        ),
        ("镇政府二楼会议室", "会议听取了社区的规划方案。", "规划停车位60个，清理消防通道。"),
        (
            ("在闲置空地划设停车位60个", "河西社区居委会", 30),
            ("清理并标划消防通道", "镇应急管理办", 25),
        ),
        (
            ("support", "早该规划了，消防通道必须畅通。"),
            ("oppose", "空地有居民种菜，要先做好沟通。"),
        ),
        ages=(40, 32, 20, 15, 7),
    ),
)


PATH = WORKFLOW.main_path


@dataclass
class DemoReport:
    created: bool
    skipped_reason: str = ""


async def demo_exists() -> bool:
    return bool(await Township.exists().where(Township.name == TOWNSHIP))


async def database_is_empty() -> bool:
    return not await Township.exists() and not await Account.exists()


async def documents_address() -> str | None:
    """The address the demo's documents name in their links and QR codes (as published,
    from the event that told of it), or None if it has none."""
    row = (
        await OutboxEvent.select(OutboxEvent.payload)
        .where(
            OutboxEvent.type == "document.published",
            OutboxEvent.township.name == TOWNSHIP,
        )
        .order_by(OutboxEvent.id)
        .first()
    )
    if row is None:
        return None
    verify_url = str(json.loads(row["payload"]).get("verify_url") or "")
    return verify_url.rsplit("/verify/", 1)[0] or None


async def seed(publishing: Publishing, if_empty: bool = False) -> DemoReport:
    """Every story's steps, told in the order they happened: each on its working day,
    with the one clock set to that moment (``clock.set_to``), so the chain's events,
    the records and the documents carry their own times."""
    if await demo_exists():
        return DemoReport(created=False, skipped_reason="演示数据已存在")
    if if_empty and not await database_is_empty():
        return DemoReport(created=False, skipped_reason="数据库中已有数据，未添加演示数据")
    calendar = await working_days()
    today = china_today()
    oldest = max(story.ages[0] for story in (*STORIES, *SECOND_STORIES))
    with clock.set_to(_at(_working_day(calendar, today, oldest + 1), 8)):
        steps = await _first_township(publishing, calendar, today)
        steps += await _second_township(publishing, calendar, today)
        await _account(SUPERVISOR, None, None)
    steps.sort(key=lambda step: step[0])
    for moment, _, action in steps:
        with clock.set_to(moment):
            await action()
    return DemoReport(created=True)


async def _first_township(
    publishing: Publishing, calendar: WorkingDays, today: date
) -> list[_Step]:
    township = await accounts.create_township(TOWNSHIP)
    villages = {name: await accounts.create_village(name, township.id) for name in VILLAGES}
    users: dict[str, Principal] = {}
    for a in ACCOUNTS:
        if a.role == "representative":
            continue  # created with the other representatives, first of its village
        users[a.role] = await _account(
            a, township.id, villages[a.village].id if a.village else None
        )
    representatives = await _representatives(township.id, {n: v.id for n, v in villages.items()})
    steps: list[_Step] = []
    for n, story in enumerate(STORIES):
        village_id = villages[story.village].id if story.village else None
        speakers = representatives[story.village or VILLAGES[-1]]
        walk = _Walk(story, n, village_id, users, speakers, publishing, calendar, today)
        steps += walk.steps()
    cadre = next(a for a in ACCOUNTS if a.role == "village_cadre")
    assert cadre.village is not None
    await set_shuoshi_day(villages[cadre.village].id, SHUOSHI_DAY)
    others = _OtherWorkflows(
        len(STORIES) + len(SECOND_STORIES),
        villages[cadre.village].id,
        users,
        representatives,
        calendar,
        today,
    )
    steps += others.steps()
    return steps


async def _second_township(
    publishing: Publishing, calendar: WorkingDays, today: date
) -> list[_Step]:
    township = await accounts.create_township(SECOND_TOWNSHIP)
    villages = {n: await accounts.create_village(n, township.id) for n in SECOND_VILLAGES}
    users = {a.role: await _account(a, township.id, None) for a in SECOND_ACCOUNTS}
    rep = next(a for a in ACCOUNTS if a.role == "representative")
    speakers: dict[str, list[tuple[Principal, str]]] = {}
    number = 0
    for village, names in SECOND_REPRESENTATIVES:
        speakers[village] = []
        for name in names:
            number += 1
            account = DemoAccount(
                f"gkdaibiao{number:02d}", rep.password, name, "representative", village
            )
            speakers[village].append(
                (await _account(account, township.id, villages[village].id), name)
            )
    steps: list[_Step] = []
    for n, story in enumerate(SECOND_STORIES, start=len(STORIES)):
        assert story.village is not None
        walk = _Walk(
            story,
            n,
            villages[story.village].id,
            users,
            speakers[story.village],
            publishing,
            calendar,
            today,
        )
        steps += walk.steps()
    return steps


def _working_day(calendar: WorkingDays, today: date, back: int) -> date:
    """The ``back``-th working day before ``today`` (negative: after it)."""
    day, step, left = today, (-1 if back > 0 else 1), abs(back)
    while left:
        day += timedelta(days=step)
        left -= calendar.is_workday(day)[0]
    return day


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA).astimezone(UTC)


_Step = tuple[datetime, int, Callable[[], Awaitable[None]]]
"""When, the story's number (ties), what happens then."""


async def _account(a: DemoAccount, township_id: int | None, village_id: int | None) -> Principal:
    user = await accounts.create_user(
        UserCreate(
            username=a.username,
            password=a.password,
            display_name=a.display_name,
            role=a.role,  # type: ignore[arg-type]
            township_id=township_id,
            village_id=village_id,
        )
    )
    return accounts.principal_of(user)


async def _representatives(
    township_id: int, villages: dict[str, int]
) -> dict[str, list[tuple[Principal, str]]]:
    """Six representatives a village; the demo's ``rep`` account is 金山村's first."""
    rep = next(a for a in ACCOUNTS if a.role == "representative")
    found: dict[str, list[tuple[Principal, str]]] = {}
    number = 0
    for village, names in REPRESENTATIVES:
        found[village] = []
        for name in names:
            if village == rep.village and name in rep.display_name:
                account = rep
            else:
                number += 1
                account = DemoAccount(
                    f"daibiao{number:02d}", rep.password, name, "representative", village
                )
            person = await _account(account, township_id, villages[village])
            found[village].append((person, name))
    return found


async def _fire(user: Principal, topic_id: int, trigger: str, comment: str = "") -> None:
    version = (await Topic.select(Topic.version).where(Topic.id == topic_id).first() or {})[
        "version"
    ]
    await topics.fire_trigger(user, topic_id, trigger, version, comment)


async def _publish(staff: Principal, topic_id: int, kind: str, publishing: Publishing) -> None:
    draft = await documents.create_document(staff, topic_id, kind, publishing)
    await documents.publish_document(staff, draft.id, None, publishing)


@dataclass
class _Walk:
    """One story's steps, each at its moment; they share what earlier steps made
    (the topic, its opinions, meeting and agreed items)."""

    story: Story
    number: int
    village_id: int | None
    users: dict[str, Principal]
    speakers: list[tuple[Principal, str]]
    publishing: Publishing
    calendar: WorkingDays
    today: date
    topic_id: int = 0
    opinions: list[Any] = field(default_factory=list)
    meeting_id: int = 0
    items: list[Any] = field(default_factory=list)
    found: list[_Step] = field(default_factory=list)

    def day(self, back: int) -> date:
        return _working_day(self.calendar, self.today, back)

    def at(self, back: int, hour: int, action: Callable[[], Awaitable[None]]) -> None:
        """``action`` at ``hour`` China time on the ``back``-th working day before today;
        a story's steps in their order, stories a few minutes apart."""
        moment = _at(self.day(back), hour, self.number * 3) + timedelta(seconds=len(self.found))
        self.found.append((moment, self.number, action))

    def steps(self) -> list[_Step]:
        story = self.story
        ages = story.ages
        terminal = story.target in ("rejected", "withdrawn")
        expected = 2 if terminal else PATH.index(story.target) + 1
        assert len(ages) == expected and min(ages) >= 1, story.title
        assert all(a > b for a, b in pairwise(ages)), story.title
        self.at(ages[0], 9, self.open)
        self.at(ages[0], 15, self.hear_representatives)
        if story.target == "rejected":
            comment = "属于城管执法事项，已转交相关部门处理，不予立项。"
            self.at(ages[1], 10, lambda: self.fire("staff", "reject", comment))
            return self.found
        if story.target == "withdrawn":
            comment = "仓库产权尚未明确，待确权后再提出。"
            self.at(ages[1], 10, lambda: self.fire("liaison", "withdraw", comment))
            return self.found
        stop = len(ages) - 1
        if stop >= 1:
            self.at(ages[1], 16, self.investigate)
        if stop >= 2:
            self.at(ages[2], 10, lambda: self.fire("liaison", "begin_site_consultation"))
        if stop >= 3:
            if stop >= 4:
                meeting = ages[4] + 1
            else:
                assert story.meeting_age is not None, story.title
                meeting = story.meeting_age
            self.at(ages[3], 16, lambda: self.consult_and_call(meeting))
            if meeting >= 1:
                # The office answers every opinion at the meeting.
                self.at(meeting, 11, self.answer)
        if stop >= 4:
            self.at(ages[4], 10, self.record_minutes_and_items)
        if stop >= 5:
            self.at(ages[5], 10, self.publish_results)
        if stop >= 6:
            self.at(ages[6], 9, self.finish_items)
            self.at(ages[6], 11, self.rate)
            self.at(ages[6], 16, self.close)
        return self.found

    async def fire(self, role: str, trigger: str, comment: str = "") -> None:
        await _fire(self.users[role], self.topic_id, trigger, comment)

    async def open(self) -> None:
        story = self.story
        topic = await topics.open_topic(
            self.users["liaison"],
            TopicCreate(
                title=story.title,
                description=story.description,
                category=story.category,
                village_id=self.village_id,
            ),
        )
        self.topic_id = topic.id

    async def hear_representatives(self) -> None:
        self.opinions = [
            await records.add_opinion(
                speaker,
                self.topic_id,
                OpinionCreate(content=content, stance=stance),  # type: ignore[arg-type]
            )
            for (speaker, _), (stance, content) in zip(
                self.speakers, self.story.opinions, strict=False
            )
        ]

    async def investigate(self) -> None:
        place, participants, findings = self.story.visit
        await records.add_investigation(
            self.users["liaison"],
            self.topic_id,
            InvestigationCreate(
                visited_on=self.day(self.story.ages[1] + 1),
                place=place,
                participants=participants,
                findings=findings,
            ),
        )
        await self.fire("liaison", "investigate")

    async def consult_and_call(self, meeting: int) -> None:
        """The site consultation held that day, then the meeting called for its day."""
        place, participants, summary = self.story.consultation
        await records.add_site_consultation(
            self.users["liaison"],
            self.topic_id,
            SiteConsultationCreate(
                held_on=china_today(), place=place, participants=participants, summary=summary
            ),
        )
        called = await records.schedule_meeting(
            self.users["staff"],
            self.topic_id,
            MeetingCreate(
                scheduled_at=_at(self.day(meeting), 9),
                place=self.story.meeting[0],
                host="陈国强（镇政协工作联络委主任）",
            ),
        )
        self.meeting_id = called.id
        await self.fire("staff", "convene_meeting")

    async def answer(self) -> None:
        for n, opinion in enumerate(self.opinions):
            adoption = ADOPTIONS[n % len(ADOPTIONS)]
            await records.answer_opinion(
                self.users["staff"],
                opinion.id,
                OpinionAnswer(adoption=adoption, reason=ANSWERS[adoption]),  # type: ignore[arg-type]
            )

    async def record_minutes_and_items(self) -> None:
        staff, story = self.users["staff"], self.story
        _, summary, decisions = story.meeting
        await records.record_minutes(
            staff,
            self.meeting_id,
            MinutesUpdate(
                summary=summary,
                decisions=decisions,
                attendees=[
                    AttendeeIn(name="陈国强", unit="镇政协工作联络委", attendance="present"),
                    AttendeeIn(name="王建华", unit="政协联络员", attendance="present"),
                    AttendeeIn(name="赵丽", unit="镇财政所", attendance="on_leave"),
                    *(
                        AttendeeIn(name=name, unit="村（居）民代表", attendance="observer")
                        for _, name in self.speakers[:2]
                    ),
                ],
            ),
        )
        today = china_today()
        self.items = [
            await records.add_resolution_item(
                staff,
                self.topic_id,
                ResolutionItemCreate(
                    content=content, responsible_unit=unit, due_date=today + timedelta(days=days)
                ),
            )
            for content, unit, days in story.items
        ]
        await self.fire("staff", "adopt_resolution")

    async def publish_results(self) -> None:
        staff = self.users["staff"]
        await _publish(staff, self.topic_id, "minutes", self.publishing)
        await _publish(staff, self.topic_id, "resolution_notice", self.publishing)
        await self.fire("staff", "start_feedback")
        await records.add_progress(
            staff, self.items[0].id, ProgressCreate(note=self.story.progress, percent=60)
        )

    async def finish_items(self) -> None:
        for item in self.items:
            await records.add_progress(
                self.users["staff"],
                item.id,
                ProgressCreate(note="已全部完成并验收。", percent=100, completed=True),
            )

    async def rate(self) -> None:
        for (speaker, _), (rating, comment) in zip(self.speakers, RATINGS, strict=False):
            await records.rate_satisfaction(
                speaker,
                self.topic_id,
                SatisfactionCreate(rating=rating, comment=comment),  # type: ignore[arg-type]
            )

    async def close(self) -> None:
        await _publish(self.users["staff"], self.topic_id, "feedback_report", self.publishing)
        await self.fire("staff", "close")


# One topic of each other shipped workflow (docs/workflows.md), in the state that shows
# what it is about. Their states and steps are read from the declarations: the main
# path's step out of a state, the vote a step's quorum names (tests/workflows/
# test_no_literals.py).

SHUOSHI_DAY = 5
"""金山村's 说事日: the 5th of each month (docs/decisions.md "The 说事日")."""

_WORKFLOW_DEMOS = (
    # 微协商, in its opinion window with two opinions.
    ("micro", "黄金埠社区垃圾分类投放点调整", 1),
    # 四议两公开, past 两委商议 (两委 and 支委 votes recorded), awaiting the 党员大会.
    ("siyi", "金山村集体闲置厂房出租", 2),
    # 村民说事, in 办事 with its items.
    ("shuoshi", "金山村二组灌溉水渠清淤", 2),
)
"""(workflow key, the topic's title, the place on its main path it is left at)."""


def workflow_demos() -> tuple[tuple[Workflow, str, str], ...]:
    """(workflow, the topic's title, the state it is left in) of each demo whose workflow
    is loaded: a folder without one (``DELIBERATION_WORKFLOWS_DIR``) seeds the others."""
    found = []
    for key, title, place in _WORKFLOW_DEMOS:
        try:
            workflow = REGISTRY.latest(key)
        except KeyError:
            continue
        found.append((workflow, title, workflow.main_path[place]))
    return tuple(found)


def _onward(workflow: Workflow, state: str) -> Transition:
    """The step that leaves ``state`` along the workflow's main path."""
    path = workflow.main_path
    following = path[path.index(state) + 1]
    return next(t for t in workflow.transitions if state in t.sources and t.dest == following)


@dataclass
class _OtherWorkflows:
    """The topics of ``workflow_demos()``, each step at its working day."""

    number: int
    village_id: int
    users: dict[str, Principal]
    representatives: dict[str, list[tuple[Principal, str]]]
    calendar: WorkingDays
    today: date
    found: list[_Step] = field(default_factory=list)
    topic_ids: dict[str, int] = field(default_factory=dict)

    def at(self, n: int, back: int, hour: int, action: Callable[[], Awaitable[None]]) -> None:
        day = _working_day(self.calendar, self.today, back)
        moment = _at(day, hour, (self.number + n) * 3) + timedelta(seconds=len(self.found))
        self.found.append((moment, self.number + n, action))

    def steps(self) -> list[_Step]:
        walk = {"micro": self.micro, "siyi": self.siyi, "shuoshi": self.shuoshi}
        for n, (workflow, title, target) in enumerate(workflow_demos()):
            walk[workflow.key](n, workflow, title, target)
        return self.found

    def open(self, workflow: Workflow, title: str, description: str, who: str) -> Any:
        async def action() -> None:
            topic = await topics.open_topic(
                self.users[who],
                TopicCreate(
                    title=title,
                    description=description,
                    category="村务" if workflow.scope == "village" else "环境",
                    village_id=self.village_id if workflow.scope == "village" else None,
                    workflow=workflow.key,
                ),
            )
            self.topic_ids[workflow.key] = topic.id

        return action

    def fire(self, workflow: Workflow, state: str, who: str) -> Any:
        async def action() -> None:
            step = _onward(workflow, state)
            await _fire(self.users[who], self.topic_ids[workflow.key], step.trigger)

        return action

    def micro(self, n: int, workflow: Workflow, title: str, target: str) -> None:
        """Opened, then its opinion window opened two working days ago: two opinions."""
        assert workflow.main_path.index(target) == 1
        description = (
            "社区3号楼旁垃圾分类投放点离住户窗户太近，夏季异味大，居民建议挪到停车场东侧。"
        )
        self.at(n, 3, 9, self.open(workflow, title, description, "liaison"))
        self.at(n, 2, 10, self.fire(workflow, workflow.initial, "liaison"))
        speakers = self.representatives[VILLAGES[-1]]
        said = (
            ("support", "同意挪到停车场东侧，那里离住户远，也方便清运车进出。"),
            ("suggestion", "建议新投放点加装洗手池和遮雨棚，并在旧点位张贴指引。"),
        )
        for back, (speaker, _), (stance, content) in zip((2, 1), speakers, said, strict=False):

            async def opinion(
                who: Principal = speaker, stance: str = stance, content: str = content
            ) -> None:
                await records.add_opinion(
                    who,
                    self.topic_ids[workflow.key],
                    OpinionCreate(content=content, stance=stance),  # type: ignore[arg-type]
                )

            self.at(n, back, 15, opinion)

    def siyi(self, n: int, workflow: Workflow, title: str, target: str) -> None:
        """提议 and 商议 each carried by its body's vote, the 7 days waited between."""
        assert workflow.main_path.index(target) == 2
        description = (
            "村集体闲置厂房（原砖瓦厂，约800平方米）拟公开出租用于来料加工，"
            "租期5年，租金收入纳入村集体经济。"
        )
        self.at(n, 16, 9, self.open(workflow, title, description, "village_cadre"))
        ages = (15, 6)  # working days apart: at least 7 calendar days (min_wait)
        path = workflow.main_path
        for back, state in zip(ages, path[: path.index(target)], strict=True):
            self.at(n, back, 10, self.vote(workflow, state))
            self.at(n, back, 11, self.fire(workflow, state, "village_cadre"))

    def vote(self, workflow: Workflow, state: str) -> Any:
        async def action() -> None:
            step = _onward(workflow, state)
            rule = next(leaf for r in step.requires for leaf in r.leaves if leaf.kind == "quorum")
            await records.add_vote(
                self.users["village_cadre"],
                self.topic_ids[workflow.key],
                VoteCreate(
                    body=str(rule.param("body")),
                    held_on=china_today(),
                    roster_size=7,
                    present=7,
                    votes_for=6,
                    against=1,
                    abstain=0,
                    method="举手",
                    presided_by="刘春生",
                ),
            )

        return action

    def shuoshi(self, n: int, workflow: Workflow, title: str, target: str) -> None:
        """说事 recorded, 议事会 held with its minutes and two 办事事项, one under way."""
        assert workflow.main_path.index(target) == 2
        description = "二组村民在说事日反映：灌溉水渠淤塞近百米，春灌前需清淤并修补渠壁。"
        key = workflow.key
        self.at(n, 12, 9, self.open(workflow, title, description, "village_cadre"))

        async def raised() -> None:
            await records.add_investigation(
                self.users["village_cadre"],
                self.topic_ids[key],
                InvestigationCreate(
                    visited_on=china_today(),
                    place="金山村村委会（说事日）",
                    participants="二组村民6人、村干部刘春生",
                    findings="水渠淤塞约90米，两处渠壁破损，影响30余亩水田灌溉。",
                ),
            )

        self.at(n, 12, 10, raised)
        self.at(n, 11, 10, self.fire(workflow, workflow.initial, "village_cadre"))
        meeting: dict[str, int] = {}

        async def call() -> None:
            called = await records.schedule_meeting(
                self.users["village_cadre"],
                self.topic_ids[key],
                MeetingCreate(
                    scheduled_at=_at(_working_day(self.calendar, self.today, 9), 9),
                    place="金山村村委会会议室",
                    host="刘春生",
                ),
            )
            meeting["id"] = called.id

        self.at(n, 11, 11, call)
        items: list[Any] = []

        async def decide() -> None:
            cadre = self.users["village_cadre"]
            await records.record_minutes(
                cadre,
                meeting["id"],
                MinutesUpdate(
                    summary="议事会听取二组村民意见，察看了水渠现场照片。",
                    decisions="组织村民投工投劳清淤，村集体出资修补渠壁。",
                    attendees=[
                        AttendeeIn(name="刘春生", unit="金山村村委会", attendance="present"),
                        *(
                            AttendeeIn(name=name, unit="村民代表", attendance="present")
                            for _, name in self.representatives[VILLAGES[0]][:3]
                        ),
                    ],
                ),
            )
            today = china_today()
            for content, unit, days in (
                ("组织二组村民投工投劳清淤90米", "金山村二组", 20),
                ("修补两处破损渠壁", "金山村村委会", 30),
            ):
                items.append(
                    await records.add_resolution_item(
                        cadre,
                        self.topic_ids[key],
                        ResolutionItemCreate(
                            content=content,
                            responsible_unit=unit,
                            due_date=today + timedelta(days=days),
                        ),
                    )
                )
            await _fire(
                cadre, self.topic_ids[key], _onward(workflow, workflow.main_path[1]).trigger
            )

        self.at(n, 9, 15, decide)

        async def progress() -> None:
            await records.add_progress(
                self.users["village_cadre"],
                items[0].id,
                ProgressCreate(note="已清淤50米，村民出工42人次。", percent=55),
            )

        self.at(n, 3, 16, progress)
