"""What goes into each document, read from the topic's record.

Every value handed to a template is plain text (dates already in ``2026年1月5日``
form); the templates only lay it out, and Jinja escapes all of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from deliberation.clock import china_date, chinese_date, chinese_datetime
from deliberation.errors import ConditionFailed
from deliberation.numbers import percent
from deliberation.tables import (
    Meeting,
    MeetingAttendee,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    Topic,
    Township,
    Village,
    Vote,
)
from deliberation.wording import RATING_LABELS, zh

KINDS = {
    "minutes": "会议纪要",
    "resolution_notice": "协商成果公示",
    "feedback_report": "落实情况通报",
    "decision_notice": "决议公开",
    "result_notice": "实施结果公开",
    "micro_suggestion": "微协商建议",
    "annual_plan": "协商计划",
}
"""Document kinds and their Chinese names."""

NOTICES = frozenset(
    {"resolution_notice", "decision_notice", "result_notice", "micro_suggestion", "annual_plan"}
)
"""Posted notices (公示、公开) and the annual plan's notice: numbered when published, with a
posting period."""
PLAN_KINDS = frozenset({"annual_plan"})
"""Documents owned by a plan version, not by a topic; no workflow declares them."""
COUNTY_ISSUER = "县政协“好商量”协商议事工作办公室"
"""Who issues the county's documents (the annual report, the county plan)."""
COUNTY_NUMBER_PREFIX = "县政协协商"
"""The county's 机关代字 (setting ``county_number_prefix``): 县政协协商〔2027〕1号."""

COPY_TO = zh("镇党委、镇人大主席团、镇人民政府、县政协。")
ADDRESSEES = zh("各村(社区)、镇直有关单位,广大群众:")


@dataclass(frozen=True)
class Content:
    """A document's template, title and values, before numbering and posting dates."""

    kind: str
    template: str
    title: str
    issuer: str
    context: dict[str, Any]
    text: str = field(default="")
    """All of the document's words, for the public keyword search."""


def issuer_name(township: str) -> str:
    return f"{township}“好商量”协商议事会"


def number_prefix(township: str) -> str:
    """机关代字 of a township's consultation council: 黄金埠镇 → 黄金埠协商."""
    for suffix in ("街道", "镇", "乡"):
        if township.endswith(suffix) and len(township) > len(suffix):
            return township[: -len(suffix)] + "协商"
    return township + "协商"


def document_number(
    township: str | None, year: int, number: int, county_prefix: str = COUNTY_NUMBER_PREFIX
) -> str:
    """黄金埠协商〔2027〕3号; a county document (no township) takes ``county_prefix``."""
    prefix = number_prefix(township) if township else county_prefix
    return f"{prefix}〔{year}〕{number}号"


@dataclass(frozen=True)
class TopicOwner:
    """A topic's document: its chain, lock and words are the topic's."""

    topic_id: int


@dataclass(frozen=True)
class PlanOwner:
    """An annual plan's document: owned by one version of the plan; its chain and lock
    are the plan series' (``plan_id``), and a later version's document supersedes it."""

    plan_version_id: int
    plan_id: int


Owner = TopicOwner | PlanOwner
"""Who a document belongs to (docs/decisions.md "Documents outside a topic")."""


def owner_of(row: Mapping[str, Any]) -> Owner:
    """The owner of a ``document`` row read with its ``plan_version`` and ``plan_id``."""
    if row.get("plan_version") is not None:
        return PlanOwner(int(row["plan_version"]), int(row["plan_id"]))
    return TopicOwner(int(row["topic"]))


def subject_label(content: Content) -> str:
    """What the QR label names: 议题 HSL-2026-0001, or 协商计划 2027年度（第2版）."""
    if "plan_label" in content.context:
        return str(content.context["plan_label"])
    return f"议题 {content.context['reference']}"


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def _topic(topic_id: int) -> tuple[dict[str, Any], str]:
    topic = (
        await Topic.select(
            Topic.id, Topic.reference, Topic.title, Topic.description, Topic.township
        )
        .where(Topic.id == topic_id)
        .first()
    )
    if topic is None:
        raise ConditionFailed("议题不存在")
    township = await Township.select(Township.name).where(Township.id == topic["township"]).first()
    name = township["name"] if township else ""
    villages = await Village.select(Village.name).where(Village.township == topic["township"])
    topic["subject"] = subject_of(topic["title"])
    # Names jieba does not know, which a title line must not split (塘/背村).
    topic["places"] = [n for n in (name, *(v["name"] for v in villages)) if n]
    return topic, name


SUBJECT_ENDINGS = ("的协商议题", "协商议题", "的议题", "议题")
QUOTES = "“”\"'「」"


def subject_of(title: str) -> str:
    """What a topic is about, for the documents' titles: 关于金山村道路硬化的协商议题 →
    金山村道路硬化, so that a title never reads 关于“关于…议题”… (the title builds its own
    关于 and names the document)."""
    subject = title.strip().strip(QUOTES).strip()
    if subject.startswith("关于") and len(subject) > 2:
        subject = subject[2:].lstrip()
    for ending in SUBJECT_ENDINGS:
        if subject.endswith(ending) and len(subject) > len(ending):
            subject = subject[: -len(ending)].rstrip()
            break
    return subject.strip(QUOTES).strip() or title.strip()


async def _items(topic_id: int, none_yet: str = "") -> list[dict[str, Any]]:
    """The topic's items in order; when ``none_yet`` says what to add first, none is a
    422 ``condition_failed`` saying it, with ``missing`` naming the items."""
    found = list(
        await ResolutionItem.select(
            ResolutionItem.id,
            ResolutionItem.content,
            ResolutionItem.responsible_unit,
            ResolutionItem.due_date,
            ResolutionItem.completed,
        )
        .where(ResolutionItem.topic == topic_id)
        .order_by(ResolutionItem.id)
    )
    if not found and none_yet:
        raise ConditionFailed(zh(none_yet), missing=["resolution_items"])
    return found


DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """一 … 九十九: the numbers of second-level headings, （一）（二） (GB/T 9704 §7.3.3)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens] + "十")
    return head + (DIGITS[ones] if ones else "")


def _item_rows(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "n": str(i),
            "heading_n": chinese_number(i),
            "content": item["content"],
            "unit": item["responsible_unit"],
            "due": chinese_date(item["due_date"]),
        }
        for i, item in enumerate(items, start=1)
    ]


def _common(township: str, topic: dict[str, Any], today: date) -> dict[str, Any]:
    return {
        "issuer": issuer_name(township),
        "office": issuer_name(township) + "办公室",
        "copy_to": COPY_TO,
        "reference": topic["reference"],
        "topic_title": topic["title"],
        "place_names": topic["places"],
        "date_text": chinese_date(today),
    }


# Pieces joined with + so that no one literal puts ASCII ( ) next to Chinese
# (tests/deliberation/test_punctuation.py reads literals).
NUMBERING = re.compile(
    "^\\s*(?:[0-9]+[.\u3001\uff0e]"
    + "|[\uff08"
    + "(][0-9\u4e00-\u9fff]{1,3}[\uff09"
    + ")]|[\u4e00-\u9fff]{1,3}\u3001"
    + ")"
)
"""A paragraph's own numbering: 1. 1、 （一） (1) 一、"""
END_PUNCTUATION = "\u3002\uff1b\uff0c" + ";,"


def _bare(text: str) -> str:
    """A paragraph without its numbering and end punctuation, to compare with an item."""
    return NUMBERING.sub("", text).strip().rstrip(END_PUNCTUATION).strip()


async def minutes(topic_id: int, today: date) -> Content:
    topic, township = await _topic(topic_id)
    meeting = (
        await Meeting.select()
        .where(Meeting.topic == topic_id, Meeting.minutes_recorded_at.is_not_null())
        .order_by(Meeting.minutes_recorded_at, ascending=False)
        .first()
    )
    if meeting is None:
        raise ConditionFailed(
            zh("还没有会议纪要:请先记录协商会议的纪要,再生成会议纪要文件"), missing=["minutes"]
        )
    roster = await (
        MeetingAttendee.select()
        .where(MeetingAttendee.meeting == meeting["id"])
        .order_by(MeetingAttendee.position)
    )

    def names(attendance: str) -> str:
        people = [r for r in roster if r["attendance"] == attendance]
        return "、".join(
            zh("{name}({unit})", name=r["name"], unit=r["unit"]) if r["unit"] else r["name"]
            for r in people
        )

    title = f"关于“{topic['subject']}”的协商议事会议纪要"
    held = chinese_datetime(meeting["scheduled_at"])
    intro = zh(
        "{held},{host}在{place}主持召开“好商量”协商议事会议,"
        "就“{title}”进行协商。现将会议议定事项纪要如下:",
        held=held,
        host=meeting["host"],
        place=meeting["place"],
        title=topic["subject"],
    )
    rows = _item_rows(await _items(topic_id))
    # What the meeting agreed, as typed, then the numbered items; a paragraph that only
    # repeats an item is printed once, as the item (the form says so).
    contents = {_bare(row["content"]) for row in rows}
    decisions = [
        para for para in paragraphs(meeting["minutes_decisions"]) if _bare(para) not in contents
    ]
    context = {
        **_common(township, topic, china_date(meeting["scheduled_at"])),
        "title": title,
        "intro": intro,
        "summary": paragraphs(meeting["minutes_summary"]),
        "decisions": decisions,
        "items": rows,
        "present": names("present"),
        "on_leave": names("on_leave"),
        "observers": names("observer"),
    }
    text = " ".join(
        [title, intro, *context["summary"], *context["decisions"], context["present"]]
        + [i["content"] for i in context["items"]]
    )
    return Content("minutes", "minutes.html", title, context["issuer"], context, text)


async def resolution_notice(topic_id: int, today: date) -> Content:
    topic, township = await _topic(topic_id)
    items = await _items(topic_id, "还没有协商成果：请先添加协商成果事项，再生成协商成果公示")
    title = f"关于“{topic['subject']}”协商成果的公示"
    intro = "现将“好商量”协商议事会议形成的协商成果公示如下："
    context = {
        **_common(township, topic, today),
        "title": title,
        "addressees": ADDRESSEES,
        "intro": intro,
        "items": _item_rows(items),
    }
    text = " ".join(
        [title, intro, *paragraphs(topic["description"])]
        + [f"{i['content']} {i['unit']}" for i in context["items"]]
    )
    return Content(
        "resolution_notice", "resolution_notice.html", title, context["issuer"], context, text
    )


async def _latest_progress(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each item's latest progress report, by item id (items never reported left out)."""
    reports = await (
        ProgressReport.select()
        .where(ProgressReport.item.is_in([i["id"] for i in items]))
        .order_by(ProgressReport.id)
    )
    return {progress["item"]: progress for progress in reports}


async def feedback_report(topic_id: int, today: date) -> Content:
    topic, township = await _topic(topic_id)
    items = await _items(topic_id, "还没有协商成果事项，无法通报落实情况")
    latest = await _latest_progress(items)
    rows = []
    for n, item in enumerate(items, start=1):
        report = latest.get(item["id"])
        done = item["completed"] or bool(report and report["completed"])
        rows.append(
            {
                "n": str(n),
                "heading_n": chinese_number(n),
                "content": item["content"],
                "unit": item["responsible_unit"],
                "due": chinese_date(item["due_date"]),
                "progress": report["note"] if report else "尚未报告进展",
                "percent": percent(report["percent"] if report else 0, 100),
                "reported": chinese_date(china_date(report["created_at"])) if report else "",
                "state": "已完成" if done else "推进中",
            }
        )
    ratings = await SatisfactionRating.select(SatisfactionRating.rating).where(
        SatisfactionRating.topic == topic_id
    )
    total = len(ratings)
    tally = []
    for key, label in RATING_LABELS.items():
        count = sum(1 for r in ratings if r["rating"] == key)
        share = percent(count, total)
        tally.append({"label": label, "count": str(count), "share": share})
    done_count = sum(1 for r in rows if r["state"] == "已完成")
    title = f"关于“{topic['subject']}”协商成果落实情况的通报"
    intro = zh(
        "“{title}”协商成果共{total}项,已完成{done}项。现将落实情况和群众满意度评价通报如下:",
        title=topic["subject"],
        total=str(len(rows)),
        done=str(done_count),
    )
    context = {
        **_common(township, topic, today),
        "title": title,
        "addressees": ADDRESSEES,
        "intro": intro,
        "items": rows,
        "tally": tally,
        "rated": str(total),
    }
    text = " ".join([title, intro] + [f"{r['content']} {r['progress']}" for r in rows])
    return Content(
        "feedback_report", "feedback_report.html", title, context["issuer"], context, text
    )


# 四议两公开 (workflows/siyi): the village's two publications (村委会组织法第三十条) ----


async def _village_issuer(topic_id: int, township: str) -> str:
    """The village committee that publishes a village's matter (金山村 → 金山村村民委员会;
    a 社区 → its 居民委员会), or the township's council for a township-wide topic."""
    row = await Topic.select(Topic.village.name).where(Topic.id == topic_id).first()
    village = (row or {}).get("village.name") or ""
    if not village:
        return issuer_name(township)
    return village + ("居民委员会" if village.endswith("社区") else "村民委员会")


def _vote_rows(votes: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The latest vote of each body, in the order the bodies first voted."""
    latest: dict[str, dict[str, Any]] = {}
    for vote in votes:
        latest.pop(vote["body"], None)
        latest[vote["body"]] = vote
    ordered = sorted(
        latest.values(), key=lambda v: min(w["id"] for w in votes if w["body"] == v["body"])
    )
    return [
        {
            "n": str(n),
            "body": v["body"],
            "held_on": chinese_date(v["held_on"]),
            "roster": str(v["roster_size"]),
            "present": str(v["present"]),
            "for": str(v["votes_for"]),
            "against": str(v["against"]),
            "abstain": str(v["abstain"]),
            "method": v["method"],
            # A 村民会议's notice (村委会组织法第二十一条), when the vote records it.
            **({"notice": chinese_date(v["notice_given_on"])} if v.get("notice_given_on") else {}),
        }
        for n, v in enumerate(ordered, start=1)
    ]


async def decision_notice(topic_id: int, today: date) -> Content:
    """决议公开: the matter and each body's vote on it, posted at once after the
    resolution (the workflow's ``requires`` names the vote it is made from)."""
    topic, township = await _topic(topic_id)
    votes = list(await Vote.select().where(Vote.topic == topic_id).order_by(Vote.id))
    if not votes:
        raise ConditionFailed(
            zh("还没有表决记录:请先记录村民代表会议的表决,再生成决议公开"),
            missing=["votes"],
        )
    title = f"关于“{topic['subject']}”的决议公开"
    intro = zh(
        "“{subject}”事项经下列会议依次表决通过,形成决议。现将决议事项和表决情况公开如下:",
        subject=topic["subject"],
    )
    context = {
        **_common(township, topic, today),
        "issuer": await _village_issuer(topic_id, township),
        "title": title,
        "intro": intro,
        "matter": paragraphs(topic["description"]),
        "votes": _vote_rows(votes),
    }
    context["office"] = context["issuer"]
    text = " ".join([title, intro, *context["matter"]] + [v["body"] for v in context["votes"]])
    return Content(
        "decision_notice", "decision_notice.html", title, context["issuer"], context, text
    )


async def result_notice(topic_id: int, today: date) -> Content:
    """实施结果公开: each item carried out and how it ended (村委会组织法第三十条)."""
    topic, township = await _topic(topic_id)
    items = await _items(topic_id, "还没有实施事项：请先添加实施事项并报告进展，再生成实施结果公开")
    latest = await _latest_progress(items)
    rows = []
    for n, item in enumerate(items, start=1):
        report = latest.get(item["id"])
        done = item["completed"] or bool(report and report["completed"])
        rows.append(
            {
                "n": str(n),
                "content": item["content"],
                "unit": item["responsible_unit"],
                "result": report["note"] if report else "尚未报告进展",
                "state": "已完成" if done else "推进中",
            }
        )
    done_count = sum(1 for r in rows if r["state"] == "已完成")
    title = f"关于“{topic['subject']}”实施结果的公开"
    intro = zh(
        "“{subject}”决议事项共{total}项,已完成{done}项。现将实施结果公开如下:",
        subject=topic["subject"],
        total=str(len(rows)),
        done=str(done_count),
    )
    context = {
        **_common(township, topic, today),
        "issuer": await _village_issuer(topic_id, township),
        "title": title,
        "intro": intro,
        "items": rows,
    }
    context["office"] = context["issuer"]
    text = " ".join([title, intro] + [f"{r['content']} {r['result']}" for r in rows])
    return Content("result_notice", "result_notice.html", title, context["issuer"], context, text)


async def micro_suggestion(topic_id: int, today: date) -> Content:
    """微协商建议 (workflows/micro/v1.toml): one page, the items with their lead unit and
    due date, set like the result notice (docs/documents.md)."""
    topic, township = await _topic(topic_id)
    items = await _items(topic_id, "还没有微建议事项：请先添加微建议事项，再生成微协商建议")
    title = f"关于“{topic['subject']}”的微协商建议"
    intro = "经书面征求人大代表、政协委员意见，形成微协商建议如下，请责任单位按时限落实："
    context = {
        **_common(township, topic, today),
        "title": title,
        "intro": intro,
        "items": _item_rows(items),
    }
    text = " ".join([title, intro] + [f"{i['content']} {i['unit']}" for i in context["items"]])
    return Content(
        "micro_suggestion", "micro_suggestion.html", title, context["issuer"], context, text
    )


BUILDERS = {
    "minutes": minutes,
    "resolution_notice": resolution_notice,
    "feedback_report": feedback_report,
    "decision_notice": decision_notice,
    "result_notice": result_notice,
    "micro_suggestion": micro_suggestion,
}


async def document_content(kind: str, owner: Owner | int, today: date) -> Content:
    """The words of a document of ``kind`` of ``owner`` (a bare id: a topic's)."""
    if isinstance(owner, int):
        owner = TopicOwner(owner)
    if isinstance(owner, PlanOwner):
        if kind not in PLAN_KINDS:
            raise ConditionFailed("计划只能生成协商计划文件")
        return await annual_plan(owner.plan_version_id, today)
    if kind not in BUILDERS:
        raise ConditionFailed("议题不能生成协商计划文件")
    return await BUILDERS[kind](owner.topic_id, today)


# 年度协商计划 (issue 27): a plan version's items, issued as a notice ----------------

QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


@dataclass(frozen=True)
class PlanLine:
    """One item of a plan as it prints."""

    quarter: int
    title: str
    workflow: str
    """The workflow's label (协商流程), e.g. 标准协商."""
    lead_unit: str
    suggestion_reference: str | None = None
    """The villagers' suggestion it came from (来源 村民建议 JY-…), else 直接列入."""


@dataclass(frozen=True)
class PlanSheet:
    """What an annual plan's notice is made from."""

    year: int
    township: str | None
    """The township's name; None for the county's plan."""
    version: int
    items: tuple[PlanLine, ...]
    note: str = ""
    """修订说明 of a revision."""
    place_names: tuple[str, ...] = ()


def plan_label(year: int, version: int) -> str:
    return f"协商计划 {year}年度（第{version}版）"


def plan_content(sheet: PlanSheet, today: date) -> Content:
    """The notice issuing a plan: ``关于印发2027年度“好商量”协商计划的通知`` with the plan
    attached as a table (templates/pdf/annual_plan.html)."""
    year = sheet.year
    issuer = issuer_name(sheet.township) if sheet.township else COUNTY_ISSUER
    attachment = f"{year}年度“好商量”协商计划"
    title = f"关于印发{attachment}的通知"
    addressees = ADDRESSEES if sheet.township else zh("各乡镇“好商量”协商议事会、县直有关单位:")
    intro = [
        zh(
            "为推进“好商量”协商议事常态化、制度化,经{issuer}研究,确定{year}年度协商议题"
            "{n}项。现将《{attachment}》印发给你们,请各牵头单位按季度认真组织实施。",
            issuer=issuer,
            year=str(year),
            n=str(len(sheet.items)),
            attachment=attachment,
        )
    ]
    if sheet.version > 1:
        revision = zh(
            "本计划为第{v}版,自发布之日起替代第{old}版。",
            v=str(sheet.version),
            old=str(sheet.version - 1),
        )
        if sheet.note.strip():
            revision += zh("修订说明:{note}", note=sheet.note.strip().rstrip("。")) + "。"
        intro.append(revision)
    rows = [
        {
            "n": str(n),
            "quarter": QUARTERS[line.quarter],
            "title": line.title,
            "workflow": line.workflow,
            "unit": line.lead_unit,
            "source": f"村民建议 {line.suggestion_reference}"
            if line.suggestion_reference
            else "直接列入",
            "reference": line.suggestion_reference or "",
        }
        for n, line in enumerate(sheet.items, start=1)
    ]
    context = {
        "issuer": issuer,
        "office": issuer + ("" if issuer.endswith("办公室") else "办公室"),
        "copy_to": COPY_TO,
        "reference": "",
        "plan_label": plan_label(year, sheet.version),
        "title": title,
        "addressees": addressees,
        "intro": intro,
        "attachment_title": attachment,
        "items": rows,
        "place_names": list(sheet.place_names),
        "date_text": chinese_date(today),
    }
    text = " ".join(
        [title, *intro, attachment]
        + [f"{r['quarter']} {r['title']} {r['unit']} {r['source']}" for r in rows]
    )
    return Content("annual_plan", "annual_plan.html", title, issuer, context, text)


async def annual_plan(plan_version_id: int, today: date) -> Content:
    """A plan version's notice, read from its items (``plan_item``, by position)."""
    from deliberation.pinning import loaded
    from deliberation.tables import Plan, PlanItem, PlanVersion, Suggestion

    version = (
        await PlanVersion.select(
            PlanVersion.id, PlanVersion.version, PlanVersion.note, PlanVersion.plan
        )
        .where(PlanVersion.id == plan_version_id)
        .first()
    )
    if version is None:
        raise ConditionFailed("计划不存在")
    plan = await Plan.select(Plan.year, Plan.township).where(Plan.id == version["plan"]).first()
    assert plan is not None
    township = None
    places: tuple[str, ...] = ()
    if plan["township"] is not None:
        row = await Township.select(Township.name).where(Township.id == plan["township"]).first()
        township = row["name"] if row else ""
        villages = await Village.select(Village.name).where(Village.township == plan["township"])
        places = tuple(n for n in (township, *(v["name"] for v in villages)) if n)
    items = await (
        PlanItem.select(
            PlanItem.quarter,
            PlanItem.title,
            PlanItem.workflow_key,
            PlanItem.lead_unit,
            PlanItem.suggestion,
        )
        .where(PlanItem.plan_version == plan_version_id)
        .order_by(PlanItem.position)
        .order_by(PlanItem.id)
    )
    if not items:
        raise ConditionFailed("计划还没有议题：请先列入议题，再发布", missing=["items"])
    ids = [i["suggestion"] for i in items if i["suggestion"] is not None]
    references = (
        {
            r["id"]: r["reference"]
            for r in await Suggestion.select(Suggestion.id, Suggestion.reference).where(
                Suggestion.id.is_in(ids)
            )
        }
        if ids
        else {}
    )
    labels = {w.key: w.label for w in loaded()}
    sheet = PlanSheet(
        year=int(plan["year"]),
        township=township,
        version=int(version["version"]),
        note=version["note"] or "",
        items=tuple(
            PlanLine(
                quarter=int(i["quarter"]),
                title=i["title"],
                workflow=labels.get(i["workflow_key"], i["workflow_key"]),
                lead_unit=i["lead_unit"],
                suggestion_reference=references.get(i["suggestion"]),
            )
            for i in items
        ),
        place_names=places,
    )
    return plan_content(sheet, today)
