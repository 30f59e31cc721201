"""Today's standard workflow as it was declared in Python before it became
``workflows/standard/v1.toml``: kept so that a test proves the file says exactly this."""

from __future__ import annotations

from typing import Final

from workflows.declaration import (
    DocumentKind,
    ReadRule,
    RecordKind,
    Requirement,
    State,
    TimeLimit,
    Transition,
    Workflow,
)

# Requirements. Each name is checked by the domain from the topic's records.
INVESTIGATION_RECORDED = Requirement("investigation_recorded", "至少一条调研记录", "investigation")
SITE_CONSULTATION_RECORDED = Requirement(
    "site_consultation_recorded", "至少一条现场协商记录", "site_consultation"
)
MEETING_SCHEDULED = Requirement("meeting_scheduled", "已安排的协商会议", "meeting")
MINUTES_RECORDED = Requirement("minutes_recorded", "会议纪要", "minutes")
RESOLUTION_ITEM_ADDED = Requirement("resolution_item_added", "至少一项协商成果", "resolution_item")
ITEMS_COMPLETED = Requirement("items_completed", "每项协商成果均已报告办结", "progress")
SATISFACTION_RATED = Requirement("satisfaction_rated", "至少一条满意度评价", "satisfaction")
COMMENT_GIVEN = Requirement("comment_given", "说明理由", "comment")
RESOLUTION_NOTICE_PUBLISHED = Requirement(
    "resolution_notice_published", "已发布的协商成果公示", "resolution_notice"
)

REQUIREMENTS: Final = (
    INVESTIGATION_RECORDED,
    SITE_CONSULTATION_RECORDED,
    MEETING_SCHEDULED,
    MINUTES_RECORDED,
    RESOLUTION_ITEM_ADDED,
    ITEMS_COMPLETED,
    SATISFACTION_RATED,
    COMMENT_GIVEN,
    RESOLUTION_NOTICE_PUBLISHED,
)

EARLY_STAGES: Final = ("proposed", "investigated", "site_consultation", "meeting")
ACTIVE: Final = (*EARLY_STAGES, "resolution", "feedback")
TOWNSHIP: Final = ("liaison", "representative", "staff")
"""The roles that belong to a township and take part in its topics."""
OFFICE: Final = ("liaison", "staff")
"""The township's CPPCC liaisons and office staff: they see the record in full."""
COUNTY: Final = ("supervisor",)
"""The county CPPCC (县政协 / 县级协商办): no township of its own; reads every township's
topics and records as the township office does, never drafts, and urges (督办)
overdue topics."""

REFERENCE: Final = Workflow(
    initial="proposed",
    states=(
        State("proposed", "已提出", time_limit=TimeLimit("完成调研", 10)),
        State("investigated", "已调研", time_limit=TimeLimit("完成现场协商", 10)),
        State("site_consultation", "现场协商", time_limit=TimeLimit("发出会议通知", 5)),
        State(
            "meeting",
            "会议协商",
            time_limit=TimeLimit("印发会议纪要", 7, counted_from="meeting"),
        ),
        State(
            "resolution", "已形成成果", time_limit=TimeLimit("落实协商成果", counted_from="items")
        ),
        State("feedback", "落实反馈", time_limit=TimeLimit("落实协商成果", counted_from="items")),
        State("closed", "已办结", terminal=True),
        State("rejected", "不予立项", terminal=True),
        State("withdrawn", "已撤回", terminal=True),
    ),
    transitions=(
        Transition(
            "investigate",
            "完成调研",
            ("proposed",),
            "investigated",
            ("liaison", "staff"),
            (INVESTIGATION_RECORDED,),
        ),
        Transition(
            "begin_site_consultation",
            "开始现场协商",
            ("investigated",),
            "site_consultation",
            ("liaison", "staff"),
        ),
        Transition(
            "convene_meeting",
            "召开协商会议",
            ("site_consultation",),
            "meeting",
            ("staff",),
            (SITE_CONSULTATION_RECORDED, MEETING_SCHEDULED),
        ),
        Transition(
            "adopt_resolution",
            "形成协商成果",
            ("meeting",),
            "resolution",
            ("staff",),
            (MINUTES_RECORDED, RESOLUTION_ITEM_ADDED),
        ),
        # product.md: start_feedback requires the resolution notice to be published.
        Transition(
            "start_feedback",
            "进入落实反馈",
            ("resolution",),
            "feedback",
            ("staff",),
            (RESOLUTION_NOTICE_PUBLISHED,),
        ),
        Transition(
            "close",
            "办结",
            ("feedback",),
            "closed",
            ("staff",),
            (ITEMS_COMPLETED, SATISFACTION_RATED),
        ),
        Transition(
            "reconsult",
            "重新协商",
            ("feedback",),
            "meeting",
            ("staff",),
            (COMMENT_GIVEN,),
        ),
        Transition(
            "reject",
            "不予立项",
            ("proposed",),
            "rejected",
            ("staff",),
            (COMMENT_GIVEN,),
            danger=True,
        ),
        Transition(
            "withdraw",
            "撤回",
            ("proposed", "investigated"),
            "withdrawn",
            ("liaison",),
            opener_only=True,
            danger=True,
        ),
    ),
    records=(
        # An opinion names its author and a villager: the office and its author see it;
        # other representatives see counts by stance, and the answers without names
        # once the topic is public.
        RecordKind(
            "opinion",
            "意见",
            ("representative",),
            EARLY_STAGES,
            ReadRule(OFFICE, author_full=True, others="counts", public="anonymous"),
            correct_in=EARLY_STAGES,
            author_only=True,
        ),
        RecordKind("opinion_answer", "意见采纳情况", ("staff",), ACTIVE, correct_in=ACTIVE),
        # Investigation and site-consultation records name private people.
        RecordKind(
            "investigation",
            "调研记录",
            OFFICE,
            ("proposed", "investigated", "site_consultation"),
            ReadRule(OFFICE, others="summary", public="summary"),
            correct_in=ACTIVE,
        ),
        RecordKind(
            "site_consultation",
            "现场协商记录",
            OFFICE,
            ("investigated", "site_consultation"),
            ReadRule(OFFICE, others="summary", public="summary"),
            correct_in=ACTIVE,
        ),
        RecordKind(
            "meeting",
            "协商会议",
            ("staff",),
            ("site_consultation", "meeting"),
            ReadRule(TOWNSHIP),
            correct_in=("site_consultation", "meeting"),
        ),
        RecordKind("minutes", "会议纪要", ("staff",), ("meeting",), correct_in=ACTIVE),
        RecordKind(
            "resolution_item",
            "协商成果",
            ("staff",),
            ("meeting", "resolution"),
            ReadRule(TOWNSHIP, public="full"),
            correct_in=("meeting", "resolution", "feedback"),
        ),
        RecordKind(
            "progress",
            "落实进展",
            ("staff",),
            ("resolution", "feedback"),
            ReadRule(TOWNSHIP, public="full"),
        ),
        RecordKind(
            "satisfaction",
            "满意度评价",
            ("representative",),
            ("feedback",),
            ReadRule(OFFICE, author_full=True, others="counts", public="counts"),
        ),
    ),
    documents=(
        DocumentKind(
            "minutes",
            "会议纪要",
            ("staff",),
            ("meeting", "resolution", "feedback"),
            MINUTES_RECORDED,
        ),
        DocumentKind(
            "resolution_notice",
            "协商成果公示",
            ("staff",),
            ("resolution", "feedback"),
            RESOLUTION_ITEM_ADDED,
        ),
        DocumentKind("feedback_report", "落实情况通报", ("staff",), ("feedback", "closed")),
    ),
    public_from="resolution",
)
