"""协商议事台账: the consultation ledger a township office keeps for inspections, as an
Excel workbook (issue 15, item 2).

One row per topic of the year (opened in it, China time): its reference, title, village,
opener, its workflow (协商流程), the day it entered each stage of its workflow, the
meeting's date, its agreed items, whether they are done, the villagers' ratings and
the numbers of its published documents. A second sheet lists the items one per row
(unit, due date, done and when), which is what an inspector ticks off. A third,
村民建议, lists the villagers' suggestions filed in the year (issue 27): their public
(masked) title, who filed them by standing only (王某, 代表, 委员: never a phone), the
supports, the must-list and screening dates, the decision, its public reason and the
topic it became. Headers are
Chinese, the header row is frozen, columns are as wide as their content and dates are
real dates (Excel sorts and filters them).

Each topic is given in its own workflow's words (docs/decisions.md, "Reports per
workflow"): its current state by that workflow's label, and one sheet holds topics of
every workflow, with the stage columns of each workflow that has topics in it (the
union, workflow by workflow, the default workflow first; headed with the workflow's
name when there are several). A topic's cells under another workflow's stages are empty.

The township's staff export their township; the county supervisor any township, or
every township at once (with a township column).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from pypinyin import lazy_pinyin

from deliberation.clock import china_date
from deliberation.documents.content import document_number
from deliberation.errors import NotFound
from deliberation.masking import masked_name
from deliberation.permissions import SUGGESTION_STATUS_LABELS, Subject, allowed, scope
from deliberation.pinning import workflow_of
from deliberation.security import Principal
from deliberation.statistics import completion_days, of_year, states_of, workflow_versions
from deliberation.tables import (
    Document,
    Meeting,
    ProgressReport,
    ResolutionItem,
    SatisfactionRating,
    Suggestion,
    SuggestionScreening,
    SuggestionSupport,
    Topic,
    TopicEvent,
    Township,
)
from deliberation.wording import RATING_LABELS

DATE_FORMAT = "yyyy-mm-dd"
ITEM_COLUMNS = (
    ResolutionItem.id,
    ResolutionItem.topic,
    ResolutionItem.content,
    ResolutionItem.responsible_unit,
    ResolutionItem.due_date,
    ResolutionItem.completed,
)
"""What the ledger and the open data give of an agreed item."""
DOCUMENT_MARKS = {"superseded": "（已被替换）", "revoked": "（已撤销）"}


async def export_scope(principal: Principal, township_id: int | None) -> int | None:
    """The township a ledger or annual report is of (a staff member's own when none is
    asked; None: every township, for the county), once the policy allows it."""
    seen = scope(principal, "ledger.export").check()
    if township_id is None and not seen.everywhere:
        township_id = seen.township_id  # a staff member's own township
    allowed(principal, "ledger.export", Subject(township_id=township_id)).check()
    if township_id is not None and not await Township.exists().where(Township.id == township_id):
        raise NotFound("乡镇不存在")
    return township_id


@dataclass(frozen=True)
class LedgerFile:
    body: bytes
    filename: str
    """What the clerk saves it as: ``黄金埠镇2026年协商议事台账.xlsx``."""
    ascii_filename: str
    """For clients that ignore ``filename*``: ``ledger-huangjinbuzhen-2026.xlsx``."""


EVERY_TOWNSHIP = "各乡镇"


async def ledger_xlsx(principal: Principal, *, year: int, township_id: int | None) -> LedgerFile:
    """The ledger of one township (a staff member's own by default), or of every
    township for the county, with the file name that says whose it is."""
    township_id = await export_scope(principal, township_id)
    topics = await _topics(year, township_id)
    suggestions = await suggestion_rows(*of_year(Suggestion, year, township_id))
    if township_id is None:
        name = EVERY_TOWNSHIP
    else:
        row = await Township.select(Township.name).where(Township.id == township_id).first()
        name = row["name"] if row else ""
    # A county's year is thousands of rows: the workbook is built in a worker thread (the
    # default executor, bounded), not on the event loop (docs/decisions.md, "The topic page
    # shows 50": nothing that grows with the data is built on the loop in one piece).
    body = await asyncio.to_thread(
        _workbook, year, topics, suggestions, every_township=township_id is None
    )
    return LedgerFile(
        body=body,
        filename=ledger_filename(name, year),
        ascii_filename=ascii_ledger_filename(name, year),
    )


def ledger_filename(township: str, year: int) -> str:
    """``{乡镇}{年}年协商议事台账.xlsx`` (characters a file name cannot hold dropped)."""
    plain = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", township)[:40]
    return f"{plain}{year}年协商议事台账.xlsx"


def ascii_ledger_filename(township: str, year: int) -> str:
    letters = re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(township, errors="ignore")).lower())
    return f"ledger-{letters[:40]}-{year}.xlsx" if letters else f"ledger-{year}.xlsx"


async def _topics(year: int, township_id: int | None) -> list[dict[str, Any]]:
    topics = await (
        Topic.select(
            Topic.id,
            Topic.reference,
            Topic.title,
            Topic.category,
            Topic.state,
            Topic.created_at,
            Topic.workflow_key,
            Topic.workflow_version,
            Topic.township.name.as_alias("township_name"),
            Topic.village.name.as_alias("village_name"),
            Topic.opened_by.display_name.as_alias("opener"),
        )
        .where(*of_year(Topic, year, township_id))
        .order_by(Topic.township)
        .order_by(Topic.created_at)
        .order_by(Topic.id)
    )
    entered: dict[int, dict[str, date]] = defaultdict(dict)
    for event in await (
        TopicEvent.select(TopicEvent.topic, TopicEvent.to_state, TopicEvent.created_at)
        .where(TopicEvent.kind == "transition", *of_year(TopicEvent.topic, year, township_id))
        .order_by(TopicEvent.id)
    ):
        # The latest entry (a topic sent back enters a stage again).
        entered[event["topic"]][event["to_state"]] = china_date(event["created_at"])
    meetings: dict[int, date] = {}
    for meeting in await Meeting.select(Meeting.topic, Meeting.scheduled_at).where(
        *of_year(Meeting.topic, year, township_id)
    ):
        day = china_date(meeting["scheduled_at"])
        meetings[meeting["topic"]] = max(day, meetings.get(meeting["topic"], day))
    done_on = await completion_days(*of_year(ProgressReport.item.topic, year, township_id))
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in (
        await ResolutionItem.select(*ITEM_COLUMNS)
        .where(*of_year(ResolutionItem.topic, year, township_id))
        .order_by(ResolutionItem.id)
    ):
        item["done_on"] = done_on.get(item["id"]) if item["completed"] else None
        items[item["topic"]].append(item)
    ratings: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RATING_LABELS, 0))
    for rating in await SatisfactionRating.select(
        SatisfactionRating.topic, SatisfactionRating.rating
    ).where(*of_year(SatisfactionRating.topic, year, township_id)):
        ratings[rating["topic"]][rating["rating"]] += 1
    documents: dict[int, list[str]] = defaultdict(list)
    for document in await (
        Document.select(
            Document.topic,
            Document.status,
            Document.number_year,
            Document.number,
            Document.township.name.as_alias("township_name"),
        )
        .where(Document.number.is_not_null(), *of_year(Document.topic, year, township_id))
        .order_by(Document.id)
    ):
        number = document_number(
            document["township_name"], document["number_year"], document["number"]
        )
        documents[document["topic"]].append(number + DOCUMENT_MARKS.get(document["status"], ""))
    for topic in topics:
        tid = topic["id"]
        topic["workflow"] = workflow_of(topic)
        topic["opened_on"] = china_date(topic["created_at"])
        topic["entered"] = entered[tid]
        topic["meeting_on"] = meetings.get(tid)
        topic["items"] = items[tid]
        topic["ratings"] = ratings.get(tid)
        topic["documents"] = documents[tid]
    return topics


def stage_columns(topics: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(workflow key, state, header) of each stage column: every state after the first
    of each workflow that has topics here, workflow by workflow."""
    keys = {t["workflow"].key for t in topics}
    found = []
    mine = {key: versions for key, versions in workflow_versions().items() if key in keys}
    for key, versions in mine.items():
        initial = versions[0].initial
        for state in states_of(versions):
            if state.name == initial:
                continue
            header = f"进入“{state.label}”日期"
            if len(mine) > 1:
                header = f"{versions[0].label}：{header}"
            found.append((key, state.name, header))
    return found


FILER_LABELS = {"representative": "代表", "liaison": "委员", "village_cadre": "村干部"}
"""Who filed a suggestion, by standing (a villager without an account: surname + 某)."""


def filer_name(name: str) -> str:
    """A villager who filed without an account, as the ledger names them: 王某 (the
    masker's rule, ``masking.masked_name``); no name given: 村民."""
    return masked_name(name.strip()) if name.strip() else "村民"


async def suggestion_rows(*conditions: Any) -> list[dict[str, Any]]:
    """The suggestions ``conditions`` select, oldest first, as the ledger and the open
    data give them: the public (masked) title, never the villager's own words, name or
    phone; ``filer`` by standing (``filer_role`` the filer's account role, None without
    an account); the supports counted (``supports_total`` every
    person once; ``supports_representatives`` distinct representatives;
    ``supports_villagers`` what the one-tenth rule counts, representatives included;
    ``supports_liaisons`` shown, never counted); the screening's decision, public reason
    and date; the topic it became (``topic_id``, ``topic_reference``, ``topic_state``,
    ``topic_workflow``) and the suggestion it was merged into."""
    rows = await (
        Suggestion.select(
            Suggestion.id,
            Suggestion.reference,
            Suggestion.township,
            Suggestion.township.name.as_alias("township_name"),
            Suggestion.village.name.as_alias("village_name"),
            Suggestion.public_title,
            Suggestion.status,
            Suggestion.filed_by.role.as_alias("filer_role"),
            Suggestion.submitter_name,
            Suggestion.must_list_at,
            Suggestion.screening_due_on,
            Suggestion.created_at,
            Suggestion.topic,
            Suggestion.topic.reference.as_alias("topic_reference"),
            Suggestion.topic.state.as_alias("topic_state"),
            Suggestion.topic.workflow_key.as_alias("topic_workflow_key"),
            Suggestion.topic.workflow_version.as_alias("topic_workflow_version"),
            Suggestion.merged_into.reference.as_alias("merged_into_reference"),
            Suggestion.merged_into.status.as_alias("merged_into_status"),
        )
        .where(*conditions)
        .order_by(Suggestion.township)
        .order_by(Suggestion.created_at)
        .order_by(Suggestion.id)
    )
    ids = [r["id"] for r in rows]
    screenings: dict[int, dict[str, Any]] = {}
    supports: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"total": 0, "representatives": set(), "villagers": 0, "liaisons": 0}
    )
    if ids:
        for screening in await SuggestionScreening.select(
            SuggestionScreening.suggestion,
            SuggestionScreening.decision,
            SuggestionScreening.public_reason,
            SuggestionScreening.screened_at,
        ).where(SuggestionScreening.suggestion.is_in(ids)):
            screenings[screening["suggestion"]] = screening
        for support in await SuggestionSupport.select(
            SuggestionSupport.suggestion,
            SuggestionSupport.standing,
            SuggestionSupport.account,
            SuggestionSupport.headcount,
        ).where(SuggestionSupport.suggestion.is_in(ids)):
            tally = supports[support["suggestion"]]
            tally["total"] += support["headcount"]
            if support["standing"] == "liaison":
                tally["liaisons"] += support["headcount"]
                continue
            if support["standing"] == "representative" and support["account"] is not None:
                tally["representatives"].add(support["account"])
            tally["villagers"] += support["headcount"]
    for row in rows:
        screened = screenings.get(row["id"])
        tally = supports[row["id"]]
        name = row.pop("submitter_name")
        row["filer"] = FILER_LABELS.get(row["filer_role"] or "") or filer_name(name)
        row["filed_on"] = china_date(row["created_at"])
        row["must_list_on"] = china_date(row["must_list_at"]) if row["must_list_at"] else None
        row["status_label"] = SUGGESTION_STATUS_LABELS.get(row["status"], row["status"])
        row["reason"] = screened["public_reason"] if screened else ""
        row["screened_on"] = china_date(screened["screened_at"]) if screened else None
        row["supports_total"] = tally["total"]
        row["supports_representatives"] = len(tally["representatives"])
        row["supports_villagers"] = tally["villagers"]
        row["supports_liaisons"] = tally["liaisons"]
    return rows


SUGGESTION_HEADERS = (
    "编号",
    "提出日期",
    "村（社区）",
    "标题（公开）",
    "提出人",
    "代表附议",
    "村民附议（含代表）",
    "委员附议",
    "须列入日期",
    "审核期限",
    "审核结果",
    "理由",
    "转为议题",
    "审核日期",
)
"""The 村民建议 sheet's columns (docs/plans/issue-27-plan.md §8; the supports as three
numbers, so they sum and sort)."""


def suggestion_sheet_row(row: dict[str, Any]) -> list[Any]:
    merged = row["merged_into_reference"]
    return [
        row["reference"],
        row["filed_on"],
        row["village_name"] or "全乡镇",
        row["public_title"],
        row["filer"],
        row["supports_representatives"],
        row["supports_villagers"],
        row["supports_liaisons"],
        row["must_list_on"],
        row["screening_due_on"],
        row["status_label"],
        row["reason"],
        row["topic_reference"] or (f"并入 {merged}" if merged else ""),
        row["screened_on"],
    ]


def _workbook(
    year: int,
    topics: list[dict[str, Any]],
    suggestions: list[dict[str, Any]],
    *,
    every_township: bool,
) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{year}年协商议事台账"
    stages = stage_columns(topics)
    headers = [
        "序号",
        *(["乡镇"] if every_township else []),
        "编号",
        "议题",
        "村（社区）",
        "类别",
        "提出人",
        "协商流程",
        "当前状态",
        "提出日期",
        *(header for _, _, header in stages),
        "协商会议日期",
        "协商成果（责任单位、完成时限）",
        "成果完成情况",
        "群众满意度",
        "已发布文件文号",
    ]
    rows = []
    for n, topic in enumerate(topics, 1):
        items = topic["items"]
        done = sum(1 for i in items if i["completed"])
        rows.append(
            [
                n,
                *([topic["township_name"]] if every_township else []),
                topic["reference"],
                topic["title"],
                topic["village_name"] or "全乡镇",
                topic["category"],
                topic["opener"],
                topic["workflow"].label,
                topic["workflow"].state(topic["state"]).label,
                topic["opened_on"],
                *(
                    topic["entered"].get(state) if topic["workflow"].key == key else None
                    for key, state, _ in stages
                ),
                topic["meeting_on"],
                "\n".join(
                    f"{k}. {i['content']}（{i['responsible_unit']}，{i['due_date']:%Y-%m-%d}前）"
                    for k, i in enumerate(items, 1)
                ),
                f"已完成 {done}/{len(items)} 项" if items else "",
                "、".join(f"{RATING_LABELS[k]} {v}" for k, v in topic["ratings"].items())
                if topic["ratings"]
                else "",
                "\n".join(topic["documents"]),
            ]
        )
    _fill(sheet, headers, rows)
    items_sheet = book.create_sheet("协商成果落实")
    item_headers = [
        *(["乡镇"] if every_township else []),
        "议题编号",
        "议题",
        "序号",
        "协商成果",
        "责任单位",
        "完成时限",
        "是否完成",
        "完成日期",
        "是否按期",
    ]
    item_rows = []
    for topic in topics:
        for k, item in enumerate(topic["items"], 1):
            on_time = item["done_on"] is not None and item["done_on"] <= item["due_date"]
            item_rows.append(
                [
                    *([topic["township_name"]] if every_township else []),
                    topic["reference"],
                    topic["title"],
                    k,
                    item["content"],
                    item["responsible_unit"],
                    item["due_date"],
                    "已完成" if item["completed"] else "未完成",
                    item["done_on"],
                    ("按期" if on_time else "逾期") if item["completed"] else "",
                ]
            )
    _fill(items_sheet, item_headers, item_rows)
    suggestions_sheet = book.create_sheet("村民建议")
    _fill(
        suggestions_sheet,
        [*(["乡镇"] if every_township else []), *SUGGESTION_HEADERS],
        [
            [*([s["township_name"]] if every_township else []), *suggestion_sheet_row(s)]
            for s in suggestions
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill(sheet: Any, headers: list[str], rows: list[list[Any]]) -> None:
    """Rows under a bold, frozen header; dates as dates; each column as wide as its
    widest line (a Chinese character counts twice), within reason."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in rows:
        sheet.append([safe_text(v) if isinstance(v, str) else v for v in row])
    widths = [_width(h) for h in headers]
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
                widths[cell.column - 1] = max(widths[cell.column - 1], 10)
            elif isinstance(cell.value, str):
                widths[cell.column - 1] = max(
                    widths[cell.column - 1], max(_width(line) for line in cell.value.split("\n"))
                )
                if "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    _print_setup(sheet)


def _print_setup(sheet: Any) -> None:
    """Printed as an inspector reads it: A4 landscape, every column on one page wide (as
    many pages down as it takes), the header row on every page, 第 N 页，共 M 页 below."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddHeader.center.text = "&A"  # the sheet's name: 2026年协商议事台账
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a spreadsheet recognises a formula: such text gets a leading apostrophe."""


def safe_text(text: str) -> str:
    """User text as a spreadsheet shows it and never runs it: characters a workbook
    cannot hold (control characters pasted from a word processor) dropped, and a
    leading ``=`` ``+`` ``-`` ``@`` made literal (CSV injection)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
