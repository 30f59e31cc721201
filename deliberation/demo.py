"""The demo: 黄金埠镇 with its villages, one account per role and a dozen topics
spread over every state, created through the same services the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deliberation import accounts, documents, records, topics
from deliberation.clock import china_today, utcnow
from deliberation.documents import Publishing
from deliberation.schemas import (
    AttendeeIn,
    InvestigationCreate,
    MeetingCreate,
    MinutesUpdate,
    OpinionCreate,
    ProgressCreate,
    ResolutionItemCreate,
    SatisfactionCreate,
    SiteConsultationCreate,
    TopicCreate,
    UserCreate,
)
from deliberation.security import Principal
from deliberation.tables import Account, Topic, Township
from workflows import WORKFLOW

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
    DemoAccount("liaison", "hsl-lianluo-2026", "王建华(政协联络员)", "liaison"),
    DemoAccount("rep", "hsl-daibiao-2026", "李秀英(金山村代表)", "representative", "金山村"),
    DemoAccount("staff", "hsl-xieshang-2026", "张敏(协商办)", "staff"),
)

# (title, description, category, village, target state)
TOPICS = (
    (
        "金山村村组道路硬化",
        "金山村三组至五组约1.2公里土路雨天泥泞,群众出行和农产品运输困难,建议硬化。",
        "交通",
        "金山村",
        "proposed",
    ),
    (
        "渡口村渡船安全管理",
        "渡口村渡船老旧,救生设备不足,汛期存在安全隐患,需明确管理责任。",
        "安全",
        "渡口村",
        "proposed",
    ),
    (
        "新街村农贸市场摊位规范",
        "新街农贸市场占道经营严重,摊位费标准不一,商户与群众意见较大。",
        "市场",
        "新街村",
        "investigated",
    ),
    (
        "塘背村排水沟清淤改造",
        "塘背村主排水沟多年未清淤,每逢暴雨农田和民房被淹。",
        "水利",
        "塘背村",
        "site_consultation",
    ),
    (
        "黄金埠社区居家养老服务站",
        "社区独居老人增多,建议利用闲置用房建设居家养老服务站,提供助餐服务。",
        "养老",
        "黄金埠社区",
        "meeting",
    ),
    (
        "金山村饮用水水质提升",
        "金山村部分农户反映自来水浑浊,需排查管网并提升水质。",
        "饮水",
        "金山村",
        "meeting",
    ),
    (
        "镇区路灯补装与维护",
        "镇区主干道部分路段无路灯,已装路灯损坏后维修不及时。",
        "市政",
        None,
        "resolution",
    ),
    (
        "新街村垃圾分类收运",
        "新街村垃圾收运不及时,建议设置分类投放点并明确收运时间。",
        "环境",
        "新街村",
        "resolution",
    ),
    (
        "塘背村留守儿童课后托管",
        "塘背村留守儿童放学后无人看管,建议依托村小开设课后托管。",
        "教育",
        "塘背村",
        "feedback",
    ),
    (
        "金山村高标准农田灌溉渠修复",
        "金山村灌溉渠渗漏严重,影响两百余亩农田灌溉。",
        "农业",
        "金山村",
        "closed",
    ),
    (
        "镇区广场舞噪音扰民",
        "有群众反映晚间广场舞音量过大,影响附近居民休息,请求协调。",
        "治理",
        None,
        "rejected",
    ),
    (
        "金山村文化礼堂改建",
        "建议将金山村旧仓库改建为文化礼堂,用于村民议事和文艺活动。",
        "文化",
        "金山村",
        "withdrawn",
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


async def seed(publishing: Publishing, if_empty: bool = False) -> DemoReport:
    if await demo_exists():
        return DemoReport(created=False, skipped_reason="演示数据已存在")
    if if_empty and not await database_is_empty():
        return DemoReport(created=False, skipped_reason="数据库中已有数据,未添加演示数据")
    township = await accounts.create_township(TOWNSHIP)
    villages = {name: await accounts.create_village(name, township.id) for name in VILLAGES}
    users: dict[str, Principal] = {}
    for a in ACCOUNTS:
        user = await accounts.create_user(
            UserCreate(
                username=a.username,
                password=a.password,
                display_name=a.display_name,
                role=a.role,  # type: ignore[arg-type]
                township_id=township.id,
                village_id=villages[a.village].id if a.village else None,
            )
        )
        users[a.role] = accounts.principal_of(user)
    rep_village = villages["金山村"].id
    for title, description, category, village, target in TOPICS:
        topic = await topics.open_topic(
            users["liaison"],
            TopicCreate(
                title=title,
                description=description,
                category=category,
                village_id=villages[village].id if village else None,
            ),
        )
        await _advance(
            topic.id, target, users, rep_village, village == "金山村" or village is None, publishing
        )
    return DemoReport(created=True)


async def _fire(user: Principal, topic_id: int, trigger: str, comment: str = "") -> None:
    version = (await Topic.select(Topic.version).where(Topic.id == topic_id).first() or {})[
        "version"
    ]
    await topics.fire_trigger(user, topic_id, trigger, version, comment)


async def _publish(staff: Principal, topic_id: int, kind: str, publishing: Publishing) -> None:
    draft = await documents.create_document(staff, topic_id, kind, publishing)
    await documents.publish_document(staff, draft.id, None, publishing)


async def _advance(
    topic_id: int,
    target: str,
    users: dict[str, Principal],
    rep_village: int,
    rep_may_speak: bool,
    publishing: Publishing,
) -> None:
    liaison, staff, rep = users["liaison"], users["staff"], users["representative"]
    today = china_today()
    if rep_may_speak:
        await records.add_opinion(
            rep,
            topic_id,
            OpinionCreate(
                content="村民普遍支持,希望尽快落实。", stance="support", on_behalf_of="刘大爷"
            ),
        )
    if target == "rejected":
        await _fire(staff, topic_id, "reject", "属于城管执法事项,已转交相关部门处理,不予立项。")
        return
    if target == "withdrawn":
        await _fire(liaison, topic_id, "withdraw")
        return
    stop = PATH.index(target)
    if stop >= 1:
        await records.add_investigation(
            liaison,
            topic_id,
            InvestigationCreate(
                visited_on=today - timedelta(days=20),
                place="现场及相关农户家中",
                participants="政协联络员王建华、村两委成员、群众代表5人",
                findings="问题属实,涉及农户约60户,群众意愿强烈。",
            ),
        )
        await _fire(liaison, topic_id, "investigate")
    if stop >= 2:
        await _fire(liaison, topic_id, "begin_site_consultation")
    if stop >= 3:
        await records.add_site_consultation(
            liaison,
            topic_id,
            SiteConsultationCreate(
                held_on=today - timedelta(days=12),
                place="村委会议室",
                participants="镇协商办、村两委、群众代表12人",
                summary="群众提出三点意见,初步形成解决思路,提交会议协商。",
            ),
        )
        meeting = await records.schedule_meeting(
            staff,
            topic_id,
            MeetingCreate(
                scheduled_at=datetime.combine(
                    today - timedelta(days=5), datetime.min.time(), utcnow().tzinfo
                )
                + timedelta(hours=1),
                place="镇政府三楼会议室",
                host="镇政协工作联络委主任",
            ),
        )
        await _fire(staff, topic_id, "convene_meeting")
    if stop >= 4:
        await records.record_minutes(
            staff,
            meeting.id,
            MinutesUpdate(
                summary="会议听取了调研情况汇报,与会人员充分协商。",
                decisions="一、明确牵头单位;二、限期完成;三、完成后公示并接受群众评议。",
                attendees=[
                    AttendeeIn(name="陈国强", unit="镇政协工作联络委", attendance="present"),
                    AttendeeIn(name="王建华", unit="政协联络员", attendance="present"),
                    AttendeeIn(name="赵丽", unit="镇财政所", attendance="on_leave"),
                    AttendeeIn(name="李秀英", unit="村民代表", attendance="observer"),
                ],
            ),
        )
        item = await records.add_resolution_item(
            staff,
            topic_id,
            ResolutionItemCreate(
                content="制定实施方案并组织实施",
                responsible_unit="镇村建办",
                due_date=today + timedelta(days=60),
            ),
        )
        await _fire(staff, topic_id, "adopt_resolution")
    if stop >= 5:
        await _publish(staff, topic_id, "minutes", publishing)
        await _publish(staff, topic_id, "resolution_notice", publishing)
        await _fire(staff, topic_id, "start_feedback")
        await records.add_progress(
            staff, item.id, ProgressCreate(note="已完成方案设计,进入施工。", percent=40)
        )
    if stop >= 6:
        await records.add_progress(
            staff, item.id, ProgressCreate(note="已全部完工并验收。", percent=100, completed=True)
        )
        await records.rate_satisfaction(
            rep, topic_id, SatisfactionCreate(rating="satisfied", comment="效果很好")
        )
        await _publish(staff, topic_id, "feedback_report", publishing)
        await _fire(staff, topic_id, "close")
