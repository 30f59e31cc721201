"""What a webhook receives: the ``generic`` JSON event or a WeCom group-robot message.

Every request carries the event id (for de-duplication at the receiver), a
timestamp, and an HMAC-SHA256 signature over ``timestamp + "." + body`` with the
webhook's secret:

    X-HSL-Event-Id: 3f2a…          X-HSL-Timestamp: 1764230400
    X-HSL-Signature: sha256=<hex>
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deliberation.notifications.outbox import EVENT_TYPES
from deliberation.wording import zh

FORMATS = ("generic", "wecom")


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def generic_body(event: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    topic = None
    if "reference" in data:
        topic = {k: data.get(k) for k in ("topic_id", "reference", "title", "state", "state_label")}
    return {
        "event_id": event["event_id"],
        "type": event["type"],
        "occurred_at": event["created_at"].isoformat(),
        "township_id": event["township"],
        "topic": topic,
        "data": data,
    }


_MARKDOWN_SAFE = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "#": "＃",
        "`": "｀",
        "_": "＿",
        "~": "～",
        "\\": "＼",
        "@": "＠",
        "\r": " ",
        "\n": " ",
        "\t": " ",
    }
)


def plain(text: Any) -> str:
    """People's text (a title, a comment) as inert WeCom markdown: one line, and no
    character that makes a link, a mention (``<@all>``), a heading, emphasis or a quote;
    ``://`` is broken so no address becomes a link either."""
    return str(text).translate(_MARKDOWN_SAFE).replace("://", "：//")


def _link(label: str, url: str) -> str:
    """Our own link. Built without ``zh``: its full-width brackets would break it."""
    return f"[{label}]({url})"


def _detail(event_type: str, data: dict[str, Any]) -> str:
    if event_type == "topic.transitioned":
        line = zh(
            "{before} → {after}({action})",
            before=data["from_state_label"],
            after=data["state_label"],
            action=data["trigger_label"],
        )
        return line + (zh("\n> 说明:{c}", c=plain(data["comment"])) if data.get("comment") else "")
    if event_type == "topic.opened":
        return "新议题已提出，请及时安排调研。"
    if event_type == "opinion.submitted":
        return "收到一条村（居）民代表意见。"
    if event_type == "document.published":
        return zh(
            "{kind}已发布:{title},公示至{until}。",
            kind=data["kind_label"],
            title=plain(data["document_title"]),
            until=data["posting_ends_on"],
        ) + _link("核验", data["verify_url"])
    if event_type == "deadline.due_soon":
        return zh("当前阶段“{label}”将于{due}到期。", label=data["due_label"], due=data["due_on"])
    if event_type == "topic.urged":
        return zh(
            "县政协督办：{note}（当前阶段“{label}”已于{due}到期）",
            note=plain(data["note"]),
            label=data.get("due_label") or "",
            due=data.get("due_on") or "",
        )
    if event_type == "deadline.overdue":
        return zh(
            "当前阶段“{label}”已于{due}到期,请尽快办理。",
            label=data["due_label"],
            due=data["due_on"],
        )
    return ""


def wecom_markdown(event_type: str, data: dict[str, Any], public_url: str) -> str:
    """Markdown for a WeCom group robot (企业微信群机器人)."""
    if event_type == "digest":
        lines = [zh("**【好商量】今日动态({n}条)**", n=str(len(data["events"])))]
        for item in data["events"]:
            lines.append(
                zh(
                    "> {label}:{reference} {title} · {state}",
                    label=EVENT_TYPES.get(item["type"], item["type"]),
                    reference=plain(item.get("reference", "")),
                    title=plain(item.get("title", "")),
                    state=item.get("state_label", ""),
                )
            )
        return "\n".join(lines)
    label = EVENT_TYPES.get(event_type, event_type)
    # A villager's suggestion (issue 27) carries no text: its reference and status only.
    suggestion = "suggestion_id" in data
    lines = [
        zh("**【好商量】{label}**", label=label),
        zh(
            "> 建议:{reference}" if suggestion else "> 议题:{reference} {title}",
            reference=plain(data["reference"]),
            title=plain(data.get("title", "")),
        ),
        zh('> 状态:<font color="info">{state}</font>', state=data["state_label"]),
    ]
    detail = _detail(event_type, data)
    if detail:
        lines.append(detail)
    if suggestion:
        lines.append(_link("查看建议", f"{public_url}/suggestions/{int(data['suggestion_id'])}"))
    else:
        lines.append(_link("查看议题", f"{public_url}/topics/{int(data['topic_id'])}"))
    return "\n".join(lines)


def outgoing(
    webhook: dict[str, Any], event: dict[str, Any], public_url: str, now: datetime
) -> Outgoing:
    data = json.loads(event["payload"])
    if webhook["format"] == "wecom":
        content = wecom_markdown(event["type"], data, public_url)
        message: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": content}}
    else:
        message = generic_body(event, data)
    body = json.dumps(message, ensure_ascii=False).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "haoshangliang-webhooks/1",
        "X-HSL-Event-Id": event["event_id"],
        "X-HSL-Event-Type": event["type"],
        "X-HSL-Timestamp": timestamp,
        "X-HSL-Signature": signature(webhook["secret"], timestamp, body),
    }
    return Outgoing(webhook["target_url"], body, headers)
