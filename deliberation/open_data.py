"""Open data (issue 15, item 3): everything public, as flat files anyone may download.

What is published is what the public pages already show, nothing more: topics from
their own workflow's ``public_from`` on (no description: it may name villagers), their public
timelines (who acted by role only), their agreed items and progress, the documents
anyone may read (metadata and links, not the PDFs), and the year's public figures.
Opinions are given as counts by answer and ratings as counts: both name people.
Villagers' suggestions are given once screened (issue 27), in their public (masked)
words, who filed them by role only, never a name or phone; the annual plans by their
latest published version. The topic a suggestion or plan item became is named by its
reference always, and linked only once that topic is public.

Each table is a CSV file (UTF-8 with a byte order mark, so Excel opens it as UTF-8) and
the same rows as JSON; ``README.md`` is the data card defining every field (made from
``data_files`` below, which the ``/open-data/`` page shows too) and ``LICENSE.txt`` the
licence. Each topic is given in the words of the workflow it is pinned to: its
``workflow`` key and label, its state's label from that workflow (docs/decisions.md,
"Reports per workflow"); the fields' meanings are made from the loaded workflows
(``data_files``). The ZIP is rebuilt by the worker once a day and on demand
(``deliberation export open-data --out DIR``); the web serves the newest build.
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import json
import os
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec

from deliberation import statistics
from deliberation.clock import CHINA, china_date, china_today, utcnow
from deliberation.documents.content import document_number
from deliberation.documents.renderer import Renderer
from deliberation.documents.service import Publishing, every_public_document
from deliberation.ledger import ITEM_COLUMNS, safe_text, suggestion_rows
from deliberation.overview import event_label
from deliberation.permissions import SCREENED_STATUSES, SUGGESTION_STATUS_LABELS, event_shown
from deliberation.pinning import loaded, workflow_of
from deliberation.tables import (
    Document,
    Opinion,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    Suggestion,
    Topic,
    TopicEvent,
)
from workflows import ROLE_LABELS
from workflows.declaration import Workflow

COMMENTED = ("transition", "topic.urged")
"""Events whose comment is published: a step's reason, the county's urge."""
LATEST = "latest.zip"
NESTED_STATISTICS = "statistics_by_year.json"
TITLE = "好商量协商议事公开数据"
LICENCE_NAME = "知识共享署名 4.0 国际许可协议（CC BY 4.0）"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/legalcode.zh-hans"
LICENCE_TEXT = f"""{TITLE}

本数据集采用{LICENCE_NAME}发布：
{LICENCE_URL}

您可以自由地复制、发行、改编本数据，包括用于商业目的，但须注明来源
（“{TITLE}”及下载地址），并说明是否作了修改。

This dataset is published under the Creative Commons Attribution 4.0 International
licence (CC BY 4.0): share and adapt freely, with attribution.
"""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    """文本, 整数, 小数, 日期 (YYYY-MM-DD), 时间 (ISO 8601, +08:00), 是/否 (true/false)."""
    meaning: str


@dataclass(frozen=True)
class DataFile:
    name: str
    title: str
    about: str
    fields: tuple[Field, ...]


REFERENCE = Field("topic_reference", "文本", "议题编号，如 HSL-2026-0001，各文件据此关联")


def _newest() -> list[Workflow]:
    return [versions[0] for versions in statistics.workflow_versions().values()]


def state_names() -> str:
    """Every loaded workflow's state codes and names, workflow by workflow."""
    return "；".join(
        f"{versions[0].label}（{key}）："
        + "、".join(f"{s.name}（{s.label}）" for s in statistics.states_of(versions))
        for key, versions in statistics.workflow_versions().items()
    )


def public_from_names() -> str:
    """From which stage each loaded workflow's topics are public."""
    return "、".join(
        f"{w.label}“{w.state(w.public_from).label}”" for w in _newest() if w.public_from
    )


def public_states() -> list[str]:
    """The public state names of every loaded workflow, each once."""
    return list(
        dict.fromkeys(
            s
            for versions in statistics.workflow_versions().values()
            for w in versions
            for s in w.public_states
        )
    )


def public_where(topic: Any) -> Any:
    """The condition on ``topic`` (the table, or a foreign key to it) to be public: in
    one of the public states of the workflow version it is pinned to."""
    found: Any = None
    for w in loaded():
        if not w.public_states:
            continue
        condition = (
            (topic.workflow_key == w.key)
            & (topic.workflow_version == w.version)
            & topic.state.is_in(list(w.public_states))
        )
        found = condition if found is None else found | condition
    return found if found is not None else topic.id < 0


def state_label(name: str) -> str:
    """A state's label in the first workflow (report order) that declares it."""
    for versions in statistics.workflow_versions().values():
        for state in statistics.states_of(versions):
            if state.name == name:
                return state.label
    return name


def data_files() -> tuple[DataFile, ...]:
    """The files and their fields, in the words of the workflows loaded now."""
    return (
        DataFile(
            "topics",
            "议题",
            f"已进入所属协商流程公开阶段（{public_from_names()}）及以后阶段的议题，每行一个。"
            "不含议题描述（可能涉及村民个人信息）。",
            (
                REFERENCE,
                Field("title", "文本", "议题名称"),
                Field("township", "文本", "乡镇（街道）"),
                Field("village", "文本", "村（社区）；空表示全乡镇"),
                Field("category", "文本", "议题类别；可能为空"),
                Field(
                    "workflow",
                    "文本",
                    "所属协商流程代码：" + "、".join(f"{w.key}（{w.label}）" for w in _newest()),
                ),
                Field("workflow_label", "文本", "所属协商流程名称"),
                Field("workflow_version", "整数", "议题所依据的协商流程版本"),
                Field("state", "文本", f"当前阶段代码，按所属协商流程：{state_names()}"),
                Field("state_label", "文本", "当前阶段名称（所属协商流程中的名称）"),
                Field("opened_on", "日期", "提出日期（北京时间）"),
                Field(
                    "resolution_on",
                    "日期",
                    "进入所属协商流程公开阶段的日期（标准协商为形成协商成果的日期）",
                ),
                Field(
                    "closed_on", "日期", "办结日期（走完所属协商流程的最后一个阶段）；未办结为空"
                ),
                Field("opinions_adopted", "整数", "村民代表意见中已采纳的条数"),
                Field("opinions_partly_adopted", "整数", "部分采纳的条数"),
                Field("opinions_not_adopted", "整数", "未采纳的条数"),
                Field("opinions_unanswered", "整数", "尚未答复的条数"),
                Field("rated_satisfied", "整数", "评价“满意”的村民代表人数"),
                Field("rated_basically_satisfied", "整数", "评价“基本满意”的人数"),
                Field("rated_dissatisfied", "整数", "评价“不满意”的人数"),
                Field("url", "文本", "议题公开页面的地址"),
            ),
        ),
        DataFile(
            "timeline",
            "办理经过",
            "各议题公开的办理经过，按时间先后；只写经办人的身份，不写姓名。",
            (
                REFERENCE,
                Field("position", "整数", "在该议题办理经过中的序号（从 1 起）"),
                Field("happened_at", "时间", "发生时间"),
                Field(
                    "event",
                    "文本",
                    "事件代码：topic.opened 提出、transition 流转、record.created 添加记录等",
                ),
                Field("what", "文本", "事件名称"),
                Field(
                    "state_after",
                    "文本",
                    "事件后的阶段代码（所属协商流程中的代码，见 topics 文件）",
                ),
                Field("actor_role", "文本", "经办人身份（如 镇协商工作人员）"),
                Field("comment", "文本", "流转时填写的说明或县政协督办意见；其他事件为空"),
            ),
        ),
        DataFile(
            "items",
            "协商成果",
            "议题形成的协商成果（落实事项），每行一项。",
            (
                REFERENCE,
                Field("item_number", "整数", "在该议题中的序号（从 1 起）"),
                Field("content", "文本", "协商成果内容"),
                Field("responsible_unit", "文本", "责任单位"),
                Field("due_date", "日期", "完成时限"),
                Field("completed", "是/否", "是否已完成"),
                Field("completed_on", "日期", "完成日期（报告完成的那次进展的日期）；未完成为空"),
            ),
        ),
        DataFile(
            "progress",
            "落实进展",
            "协商成果的落实进展报告，每行一次。",
            (
                REFERENCE,
                Field("item_number", "整数", "协商成果在该议题中的序号，对应 items 文件"),
                Field("reported_on", "日期", "报告日期"),
                Field("percent", "整数", "完成百分比（0–100）"),
                Field("completed", "是/否", "这次报告是否标记为已完成"),
                Field("note", "文本", "进展说明"),
            ),
        ),
        DataFile(
            "documents",
            "公开文件",
            "已发布（含已被替换、已撤销）的会议纪要、协商成果公示和落实情况通报；"
            "PDF 原件和核验页见链接。",
            (
                Field("document_id", "整数", "文件编号"),
                REFERENCE,
                Field("township", "文本", "发文乡镇"),
                Field("kind", "文本", "文件种类代码：minutes、resolution_notice、feedback_report"),
                Field("kind_label", "文本", "文件种类名称"),
                Field("title", "文本", "标题"),
                Field("number", "文本", "发文字号；未编号的文件为空"),
                Field(
                    "status",
                    "文本",
                    "状态代码：published 已发布、superseded 已被替换、revoked 已撤销",
                ),
                Field("status_label", "文本", "状态名称"),
                Field("published_at", "时间", "发布时间"),
                Field("posting_starts_on", "日期", "公示开始日期"),
                Field("posting_ends_on", "日期", "公示截止日期"),
                Field("revoked_at", "时间", "撤销时间；未撤销为空"),
                Field("sha256", "文本", "PDF 原件的 SHA-256 摘要，可用来核对下载的文件"),
                Field("pdf_url", "文本", "PDF 原件地址"),
                Field("verify_url", "文本", "核验页地址"),
            ),
        ),
        DataFile(
            "suggestions",
            "村民建议",
            "已审核（列入议题、合并办理或不予列入）的村民议题建议，每行一条；未审核的不公开。"
            "标题为公开文本（身份证号、手机号和姓名已隐去）；不含建议人的姓名和手机号。",
            (
                Field("suggestion_reference", "文本", "建议编号，如 JY-2027-0001"),
                Field("township", "文本", "乡镇（街道）"),
                Field("village", "文本", "村（社区）；空表示全乡镇"),
                Field("title", "文本", "建议标题（公开文本）"),
                Field("filed_on", "日期", "提出日期（北京时间）"),
                Field(
                    "filed_by_role",
                    "文本",
                    "提出人身份（村民、村（居）民代表、政协委员/联络员、村干部），不写姓名",
                ),
                Field("supports_total", "整数", "附议人数（每人计一次，含提出人和纸质附议）"),
                Field("supports_representatives", "整数", "其中本村村民代表人数"),
                Field(
                    "supports_villagers",
                    "整数",
                    "按十分之一村民规则计的人数（含村民代表，不含政协委员/联络员）",
                ),
                Field("must_list", "是/否", "是否曾达到须列入议题的附议人数"),
                Field("must_list_on", "日期", "达到须列入议题的日期；未达到为空"),
                Field("screening_due_on", "日期", "须列入议题的审核期限；未达到为空"),
                Field(
                    "status",
                    "文本",
                    "审核结果代码："
                    + "、".join(f"{k} {SUGGESTION_STATUS_LABELS[k]}" for k in SCREENED_STATUSES),
                ),
                Field("status_label", "文本", "审核结果名称"),
                Field("screened_on", "日期", "审核日期"),
                Field("reason", "文本", "审核理由（公开文本）"),
                Field("merged_into_reference", "文本", "合并到的建议编号；未合并到建议为空"),
                Field(
                    "topic_reference",
                    "文本",
                    "转为或并入的议题编号，对应 topics 文件（议题公开前不在其中）",
                ),
                Field("topic_url", "文本", "该议题公开页面的地址；议题尚未公开时为空"),
            ),
        ),
        DataFile(
            "plan",
            "年度协商计划",
            "各乡镇和县政协年度协商计划的最新发布版本，每行一个计划议题。",
            (
                Field("year", "整数", "计划年度"),
                Field("township", "文本", "乡镇（街道）；空表示县政协的计划"),
                Field("version", "整数", "计划版本（修订后递增，只列最新发布的版本）"),
                Field("published_on", "日期", "该版本发布日期"),
                Field("document_number", "文本", "计划文件的发文字号；无则为空"),
                Field("quarter", "整数", "计划季度（1–4）"),
                Field("position", "整数", "在计划中的序号"),
                Field("title", "文本", "计划议题（公开文本）"),
                Field("workflow", "文本", "计划采用的协商流程代码，见 topics 文件"),
                Field("workflow_label", "文本", "协商流程名称"),
                Field("lead_unit", "文本", "牵头单位"),
                Field("suggestion_reference", "文本", "来源的村民建议编号，对应 suggestions 文件"),
                Field("topic_reference", "文本", "已立项的议题编号；未立项为空"),
                Field("topic_state_label", "文本", "议题当前阶段名称；未立项或议题尚未公开时为空"),
                Field("opened_on", "日期", "议题立项（提出）日期；未立项为空"),
                Field("closed", "是/否", "议题是否已办结"),
                Field("topic_url", "文本", "议题公开页面的地址；未立项或尚未公开时为空"),
            ),
        ),
        DataFile(
            "statistics",
            "年度统计",
            "各乡镇各年度的统计数字（只统计已公开的议题，议题按提出的年份计）；"
            f"{NESTED_STATISTICS} 另有同样数字的完整结构。",
            (
                Field("year", "整数", "年度"),
                Field("township", "文本", "乡镇（街道）"),
                Field("topics", "整数", "该年度提出且已公开的议题数"),
                *(
                    Field(f"state_{s}", "整数", f"目前处于“{state_label(s)}”的议题数")
                    for s in public_states()
                ),
                *(
                    field
                    for s in statistics.timed_stages()
                    for field in (
                        Field(f"{s.name}_finished", "整数", f"“{s.label}”阶段已结束的次数"),
                        Field(f"{s.name}_on_time", "整数", "其中在时限内结束的次数"),
                        Field(
                            f"{s.name}_median_working_days",
                            "小数",
                            "用时中位数（法定工作日）；无则为空",
                        ),
                    )
                ),
                *(
                    Field(f"opinions_{a}", "整数", f"意见{label}的条数")
                    for a, label in (
                        ("adopted", "已采纳"),
                        ("partly_adopted", "部分采纳"),
                        ("not_adopted", "未采纳"),
                        ("unanswered", "尚未答复"),
                    )
                ),
                *(
                    Field(f"rated_{r}", "整数", f"评价“{label}”的人数")
                    for r, label in (
                        ("satisfied", "满意"),
                        ("basically_satisfied", "基本满意"),
                        ("dissatisfied", "不满意"),
                    )
                ),
                Field("items_total", "整数", "协商成果项数"),
                Field("items_completed", "整数", "已完成项数"),
                Field("items_completed_on_time", "整数", "按期完成项数"),
                Field("items_open_overdue", "整数", "逾期未完成项数（统计当日）"),
            ),
        ),
    )


FILES: tuple[DataFile, ...] = data_files()
"""The files as the shipped workflows give them (their names and titles never vary)."""


PACKAGE = "datapackage.json"
"""The Frictionless Data Package descriptor: each CSV with its fields and their types."""
FIELD_TYPES = {
    "文本": "string",
    "整数": "integer",
    "小数": "number",
    "日期": "date",
    "时间": "datetime",
    "是/否": "boolean",
}
ENTRY_MODE = 0o100644
"""Each file in the ZIP: a regular file anyone may read (``zipfile``'s own is 0600)."""


def data_package(generated_at: datetime, base: str) -> dict[str, Any]:
    """``datapackage.json`` (Frictionless Data Package v1, tabular): the CSVs, each with
    its Table Schema, so ``frictionless validate datapackage.json`` checks every file."""
    return {
        "profile": "tabular-data-package",
        "name": "haoshangliang-open-data",
        "title": TITLE,
        "homepage": f"{base}/open-data/",
        "created": _cell(generated_at),
        "licenses": [{"name": "CC-BY-4.0", "path": LICENCE_URL, "title": LICENCE_NAME}],
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": f.name,
                "path": f"{f.name}.csv",
                "title": f.title,
                "description": f.about,
                "format": "csv",
                "mediatype": "text/csv",
                # Written with a BOM so Excel opens it right; "utf-8-sig" reads past it.
                "encoding": "utf-8-sig",
                "schema": {
                    "fields": [
                        {
                            "name": field.name,
                            "type": FIELD_TYPES[field.kind],
                            "description": field.meaning,
                            **({"format": "any"} if field.kind == "时间" else {}),
                        }
                        for field in f.fields
                    ]
                },
            }
            for f in data_files()
        ],
    }


class Export(msgspec.Struct, kw_only=True):
    """One build: its files (name → bytes) and how many rows each table has."""

    generated_at: datetime
    files: dict[str, bytes]
    rows: dict[str, int]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(CHINA).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


async def build(public_url: str) -> Export:
    """Every file of the open data, read from the tables as they stand."""
    base = public_url.rstrip("/")
    publishing = Publishing(Renderer(0), base)  # for the links only: nothing is rendered
    tables = await _tables(base, publishing)
    # Writing ten thousand topics' files takes seconds of CPU: not in the event loop.
    return await asyncio.to_thread(_encode, tables, base)


def _encode(tables: dict[str, Any], base: str) -> Export:
    generated_at = utcnow()
    files: dict[str, bytes] = {}
    for data_file in data_files():
        rows = tables[data_file.name]
        names = [f.name for f in data_file.fields]
        files[f"{data_file.name}.csv"] = _csv(names, rows)
        files[f"{data_file.name}.json"] = json.dumps(
            [{k: _cell(row[k]) for k in names} for row in rows], ensure_ascii=False, indent=1
        ).encode()
    files[NESTED_STATISTICS] = tables["statistics_json"]
    counts = {f.name: len(tables[f.name]) for f in data_files()}
    files["README.md"] = data_card(generated_at, counts, base).encode()
    files["LICENSE.txt"] = LICENCE_TEXT.encode()
    files[PACKAGE] = json.dumps(
        data_package(generated_at, base), ensure_ascii=False, indent=1
    ).encode()
    return Export(generated_at=generated_at, files=files, rows=counts)


def _csv(names: list[str], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_cell(row[k]) for k in names])
    return out.getvalue().encode("utf-8-sig")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return safe_text(value)  # opened in Excel: never a formula
    return _cell(value)


async def _tables(base: str, publishing: Publishing) -> dict[str, Any]:
    topics = await (
        Topic.select(
            Topic.id,
            Topic.reference,
            Topic.title,
            Topic.township.name.as_alias("township"),
            Topic.village.name.as_alias("village"),
            Topic.category,
            Topic.state,
            Topic.created_at,
            Topic.workflow_key,
            Topic.workflow_version,
        )
        .where(public_where(Topic))
        .order_by(Topic.id)
    )
    reference = {t["id"]: t["reference"] for t in topics}
    pinned = {t["id"]: workflow_of(t) for t in topics}
    entered: dict[int, dict[str, date]] = defaultdict(dict)
    timeline: list[dict[str, Any]] = []
    position: dict[int, int] = defaultdict(int)
    for e in await (
        TopicEvent.select(
            TopicEvent.topic,
            TopicEvent.kind,
            TopicEvent.data,
            TopicEvent.trigger,
            TopicEvent.to_state,
            TopicEvent.actor.role.as_alias("actor_role"),
            TopicEvent.comment,
            TopicEvent.created_at,
        )
        .where(public_where(TopicEvent.topic))
        .order_by(TopicEvent.topic)
        .order_by(TopicEvent.seq)
    ):
        if e["topic"] not in reference:
            continue  # a topic that became public while this was read waits a day
        workflow = pinned[e["topic"]]
        if e["kind"] == "transition":
            entered[e["topic"]][e["to_state"]] = china_date(e["created_at"])
        record = json.loads(e["data"] or "{}").get("record", "") if e["data"] else ""
        if not event_shown("public", e["kind"], record, workflow):
            continue
        position[e["topic"]] += 1
        timeline.append(
            {
                "topic_reference": reference[e["topic"]],
                "position": position[e["topic"]],
                "happened_at": e["created_at"],
                "event": e["kind"],
                "what": event_label(e["kind"], e["trigger"], record, workflow),
                "state_after": e["to_state"],
                "actor_role": ROLE_LABELS.get(e["actor_role"] or "", ""),
                # A move's reason or an urge's note; a correction's reason may name
                # the person whose name was wrong, so it stays out.
                "comment": e["comment"] if e["kind"] in COMMENTED else "",
            }
        )
    adoptions: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(statistics.ADOPTIONS, 0)
    )
    for o in await Opinion.select(Opinion.topic, Opinion.adoption).where(
        public_where(Opinion.topic)
    ):
        adoptions[o["topic"]][o["adoption"] or "unanswered"] += 1
    ratings: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(statistics.RATINGS, 0))
    for r in await SatisfactionRating.select(
        SatisfactionRating.topic, SatisfactionRating.rating
    ).where(public_where(SatisfactionRating.topic)):
        ratings[r["topic"]][r["rating"]] += 1
    items: list[dict[str, Any]] = []
    number_of: dict[int, int] = {}
    per_topic: dict[int, int] = defaultdict(int)
    for item in await (
        ResolutionItem.select(*ITEM_COLUMNS)
        .where(public_where(ResolutionItem.topic))
        .order_by(ResolutionItem.topic)
        .order_by(ResolutionItem.id)
    ):
        if item["topic"] not in reference:
            continue
        per_topic[item["topic"]] += 1
        number_of[item["id"]] = per_topic[item["topic"]]
        items.append(item)
    progress: list[dict[str, Any]] = []
    done_on: dict[int, date] = {}
    for report in await (
        ProgressReport.select(
            ProgressReport.item,
            ProgressReport.item.topic.as_alias("topic"),
            ProgressReport.note,
            ProgressReport.percent,
            ProgressReport.completed,
            ProgressReport.created_at,
        )
        .where(public_where(ProgressReport.item.topic))
        .order_by(ProgressReport.id)
    ):
        if report["item"] not in number_of:
            continue  # an item added while this was read
        day = china_date(report["created_at"])
        if report["completed"]:
            done_on.setdefault(report["item"], day)
        progress.append(
            {
                "topic_reference": reference[report["topic"]],
                "item_number": number_of[report["item"]],
                "reported_on": day,
                "percent": report["percent"],
                "completed": report["completed"],
                "note": report["note"],
            }
        )
    documents = [
        {
            "document_id": d.id,
            "topic_reference": d.topic_reference,
            "township": d.township_name,
            "kind": d.kind,
            "kind_label": d.kind_label,
            "title": d.title,
            "number": d.number,
            "status": d.status,
            "status_label": d.status_label,
            "published_at": d.published_at,
            "posting_starts_on": d.posting_starts_on,
            "posting_ends_on": d.posting_ends_on,
            "revoked_at": d.revoked_at,
            "sha256": d.sha256,
            "pdf_url": d.pdf_url,
            "verify_url": d.verify_url,
        }
        for d in await every_public_document(publishing)
    ]
    suggestions, plan = await _suggestions_and_plans(base, documents)
    years = sorted({t["created_at"].astimezone(CHINA).year for t in topics})
    figures = [await statistics.figures(None, year=year) for year in years]
    return {
        "topics": [
            {
                "topic_reference": t["reference"],
                "title": t["title"],
                "township": t["township"],
                "village": t["village"],
                "category": t["category"],
                "workflow": pinned[t["id"]].key,
                "workflow_label": pinned[t["id"]].label,
                "workflow_version": pinned[t["id"]].version,
                "state": t["state"],
                "state_label": pinned[t["id"]].state(t["state"]).label,
                "opened_on": china_date(t["created_at"]),
                "resolution_on": entered[t["id"]].get(pinned[t["id"]].public_from),
                "closed_on": _closed_on(pinned[t["id"]], entered[t["id"]]),
                **{f"opinions_{k}": v for k, v in adoptions[t["id"]].items()},
                **{f"rated_{k}": v for k, v in ratings[t["id"]].items()},
                "url": f"{base}/topics/{t['id']}",
            }
            for t in topics
        ],
        "timeline": timeline,
        "items": [
            {
                "topic_reference": reference[i["topic"]],
                "item_number": number_of[i["id"]],
                "content": i["content"],
                "responsible_unit": i["responsible_unit"],
                "due_date": i["due_date"],
                "completed": i["completed"],
                "completed_on": done_on.get(i["id"]) if i["completed"] else None,
            }
            for i in items
        ],
        "progress": progress,
        "documents": documents,
        "suggestions": suggestions,
        "plan": plan,
        "statistics": [_figures_row(f.year, t) for f in figures for t in f.townships if t.topics],
        "statistics_json": msgspec.json.encode(figures),
    }


def _topic_url(base: str, topic: dict[str, Any]) -> str:
    """The topic's public page, once it is public (its reference is public before)."""
    public = topic["state"] in workflow_of(topic).public_states
    return f"{base}/topics/{topic['id']}" if public else ""


async def _suggestions_and_plans(
    base: str, documents: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The screened suggestions and the latest published version of every plan."""
    suggestions = []
    for s in await suggestion_rows(Suggestion.status.is_in(list(SCREENED_STATUSES))):
        topic = None
        if s["topic"] is not None:
            topic = {
                "id": s["topic"],
                "state": s["topic_state"],
                "workflow_key": s["topic_workflow_key"],
                "workflow_version": s["topic_workflow_version"],
            }
        merged = s["merged_into_reference"] if s["merged_into_status"] in SCREENED_STATUSES else ""
        suggestions.append(
            {
                "suggestion_reference": s["reference"],
                "township": s["township_name"],
                "village": s["village_name"],
                "title": s["public_title"],
                "filed_on": s["filed_on"],
                "filed_by_role": ROLE_LABELS.get(s["filer_role"] or "", "村民"),
                "supports_total": s["supports_total"],
                "supports_representatives": s["supports_representatives"],
                "supports_villagers": s["supports_villagers"],
                "must_list": s["must_list_on"] is not None,
                "must_list_on": s["must_list_on"],
                "screening_due_on": s["screening_due_on"],
                "status": s["status"],
                "status_label": s["status_label"],
                "screened_on": s["screened_on"],
                "reason": s["reason"],
                "merged_into_reference": merged or "",
                "topic_reference": s["topic_reference"] or "",
                "topic_url": _topic_url(base, topic) if topic else "",
            }
        )
    versions = await statistics.published_versions()
    items = await statistics.plan_topics([v["id"] for v in versions])
    ids = [i["opened"] for found in items.values() for i in found if i["opened"]]
    topics = {
        t["id"]: t
        for t in await Topic.select(
            Topic.id,
            Topic.reference,
            Topic.created_at,
            Topic.state,
            Topic.workflow_key,
            Topic.workflow_version,
        ).where(Topic.id.is_in(ids or [-1]))
    }
    numbers = await _document_numbers([v["document"] for v in versions if v["document"]])
    # A number as the published documents give it (the county's 机关代字 too), else made.
    numbers |= {d["document_id"]: d["number"] for d in documents if d["number"]}
    workflows = statistics.workflow_versions()
    plan = []
    for version in versions:
        for item in items.get(version["id"], ()):
            topic = topics.get(item["opened"])
            public = topic is not None and bool(_topic_url(base, topic))
            newest = workflows.get(item["workflow_key"])
            plan.append(
                {
                    "year": version["year"],
                    "township": version["township_name"] or "",
                    "version": version["version"],
                    "published_on": china_date(version["published_at"])
                    if version["published_at"]
                    else None,
                    "document_number": numbers.get(version["document"], ""),
                    "quarter": item["quarter"],
                    "position": item["position"],
                    "title": item["title"],
                    "workflow": item["workflow_key"],
                    "workflow_label": newest[0].label if newest else item["workflow_key"],
                    "lead_unit": item["lead_unit"],
                    # A suggestion is public once screened: before, not even its reference.
                    "suggestion_reference": item["suggestion_reference"]
                    if item["suggestion_status"] in SCREENED_STATUSES
                    else "",
                    "topic_reference": topic["reference"] if topic else "",
                    "topic_state_label": workflow_of(topic).state(topic["state"]).label
                    if topic and public
                    else "",
                    "opened_on": china_date(topic["created_at"]) if topic else None,
                    "closed": bool(topic and statistics.is_completed(topic)),
                    "topic_url": _topic_url(base, topic) if topic else "",
                }
            )
    return suggestions, plan


async def _document_numbers(ids: list[int]) -> dict[int, str]:
    """Plan documents' numbers, of a township's (黄金埠协商〔2027〕3号)."""
    found: dict[int, str] = {}
    if not ids:
        return found
    for d in await Document.select(
        Document.id,
        Document.number_year,
        Document.number,
        Document.township.name.as_alias("township_name"),
    ).where(Document.id.is_in(ids), Document.number.is_not_null()):
        if d["township_name"]:
            found[d["id"]] = document_number(d["township_name"], d["number_year"], d["number"])
    return found


def _closed_on(workflow: Workflow, entered: dict[str, date]) -> date | None:
    """The day the topic finished its workflow's main path (its last state, if final)."""
    last = workflow.main_path[-1]
    return entered.get(last) if workflow.state(last).terminal else None


def _figures_row(year: int, t: statistics.TownshipFigures) -> dict[str, Any]:
    row: dict[str, Any] = {"year": year, "township": t.township_name, "topics": t.topics}
    for state in public_states():
        row[f"state_{state}"] = t.by_state.get(state, 0)
    for timed in statistics.timed_stages():  # a workflow none of its topics follow: 0
        row |= {f"{timed.name}_finished": 0, f"{timed.name}_on_time": 0}
        row[f"{timed.name}_median_working_days"] = None
    for stage in t.stages:
        row[f"{stage.state}_finished"] = stage.finished
        row[f"{stage.state}_on_time"] = stage.on_time
        row[f"{stage.state}_median_working_days"] = stage.median_working_days
    row |= {f"opinions_{k}": v for k, v in t.opinions_by_adoption.items()}
    row |= {f"rated_{k}": v for k, v in t.satisfaction_by_rating.items()}
    row |= {
        "items_total": t.items.total,
        "items_completed": t.items.completed,
        "items_completed_on_time": t.items.completed_on_time,
        "items_open_overdue": t.items.open_overdue,
    }
    return row


def data_card(generated_at: datetime, rows: dict[str, int], base: str) -> str:
    """README.md: what the data is, where it comes from, the licence, every field."""
    local = generated_at.astimezone(CHINA)
    files = data_files()
    lines = [
        f"# {TITLE}",
        "",
        "乡镇（街道）“好商量”协商议事的公开数据：已进入公开阶段的议题、办理经过、协商成果及"
        "落实进展、公开文件、年度统计、已审核的村民建议和年度协商计划。与公开页面所示一致，"
        "不含村民代表和村民的姓名及手机号。",
        "",
        f"- 生成时间：{local:%Y-%m-%d %H:%M}（北京时间），每日更新",
        f"- 下载地址：{base}/open-data/{LATEST}",
        f"- 许可协议：{LICENCE_NAME}，见 LICENSE.txt",
        "- 编码：CSV 文件为 UTF-8（带 BOM，Excel 可直接打开），逗号分隔，首行为字段名；"
        "同名 JSON 文件为相同内容的对象数组",
        "- 日期为 YYYY-MM-DD，时间为 ISO 8601 北京时间（+08:00），是/否为 true/false，"
        "空值在 CSV 中为空、在 JSON 中为 null",
        "- 议题名称、协商成果、落实进展说明和流转说明是工作人员填写的原文，与公开页面一致；"
        "CSV 中以 = + - @ 开头的文字前加了一个撇号（'），以免被电子表格当作公式",
        "- 退回重新协商的议题暂时不在 topics 中，其已发布的文件仍在 documents 中",
        f"- {PACKAGE}：按 Frictionless Data Package 标准描述各 CSV 文件的字段和类型，"
        "可用 frictionless validate 校验",
        "",
        "## 文件",
        "",
        "| 文件 | 内容 | 行数 |",
        "|---|---|---|",
        *(f"| {f.name}.csv / {f.name}.json | {f.title} | {rows[f.name]} |" for f in files),
        f"| {NESTED_STATISTICS} | 各年度统计的完整结构（每年一个对象：各乡镇及全部乡镇合计，"
        "含各阶段按期情况），字段同统计接口 /api/v1/statistics | |",
        "",
    ]
    lines += [
        "## 协商流程",
        "",
        "每个议题按提出时选定的协商流程（及其版本）办理，阶段代码和名称以该流程为准"
        "（topics 文件的 workflow 字段）。各流程的阶段：",
        "",
        "| 流程代码 | 流程名称 | 阶段（代码：名称） |",
        "|---|---|---|",
        *(
            f"| {key} | {versions[0].label} | "
            + "、".join(f"{s.name}：{s.label}" for s in statistics.states_of(versions))
            + " |"
            for key, versions in statistics.workflow_versions().items()
        ),
        "",
    ]
    for f in files:
        lines += [
            f"## {f.name}：{f.title}",
            "",
            f.about,
            "",
            "| 字段 | 类型 | 含义 |",
            "|---|---|---|",
            *(f"| {field.name} | {field.kind} | {field.meaning} |" for field in f.fields),
            "",
        ]
    return "\n".join(lines)


def zip_bytes(export: Export) -> bytes:
    out = io.BytesIO()
    stamp = export.generated_at.astimezone(CHINA).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in export.files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ENTRY_MODE << 16
            archive.writestr(info, body)
    return out.getvalue()


async def write(folder: Path, public_url: str) -> Export:
    """Build, then write every file and ``latest.zip`` into ``folder`` (each replaced
    whole: a reader never sees half a file)."""
    export = await build(public_url)
    await asyncio.to_thread(_write_files, folder, export)
    return export


def _write_files(folder: Path, export: Export) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    build_note = json.dumps(
        {"generated_at": _cell(export.generated_at), "rows": export.rows}, ensure_ascii=False
    ).encode()
    files = [*export.files.items(), (LATEST, zip_bytes(export)), (BUILD, build_note)]
    # Several processes may rebuild at once (each server's scheduler): one writes at a
    # time, each file under a name of its own until it replaces the old one whole.
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name, body in files:
            handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(partial, folder / name)


BUILD = "build.json"
"""When the files in a folder were built (on the project's clock), and their rows."""


def last_build(folder: Path) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = json.loads((folder / BUILD).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return found


def built_on(folder: Path) -> date | None:
    """The China date of the newest build in ``folder``, if any."""
    build = last_build(folder)
    if build is None or not (folder / LATEST).exists():
        return None
    return datetime.fromisoformat(build["generated_at"]).astimezone(CHINA).date()


async def rebuild_if_due(folder: Path, public_url: str) -> bool:
    """Once a day (the worker's scheduler): build unless today's build is there."""
    if built_on(folder) == china_today():
        return False
    await write(folder, public_url)
    return True
