"""Opening a topic from the pages (liaisons of a township)."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from api.forms import FormData, max_lengths, parse_form
from api.pages.signin import PageController, SignedIn
from deliberation import accounts, offerings, permissions, pinning, shuoshi_day, topics
from deliberation.errors import DomainError, ValidationFailed
from deliberation.schemas import TopicCreate
from deliberation.security import Principal


async def _new_topic_form(
    principal: Principal, values: dict[str, Any], problems: dict[str, str], status: int = 200
) -> Template:
    # The workflows offered to the opener's township (or some of its villages) that
    # name their role among the openers: a choice only when there is more than one
    # (docs/workflows.md, "Which workflows a township offers").
    workflows = await offerings.offered_to(principal)
    allowed = bool(workflows) or bool(permissions.allowed(principal, "topic.open"))
    villages = await accounts.list_villages(principal) if allowed else []
    keys = [w.key for w in workflows]
    default = pinning.DEFAULT_KEY if pinning.DEFAULT_KEY in keys or not keys else keys[0]
    # 村民说事: the next 说事日 of each village it may be opened for, when it has one
    # (docs/decisions.md "The 说事日 on the pages").
    on_day = {
        v
        for w in workflows
        if pinning.loaded().get(w.key, w.version).shuoshi_day
        for v in w.village_ids or []
    }
    next_days = {
        v.id: shuoshi_day.day_words(v.next_shuoshi_day)
        for v in villages
        if v.id in on_day and v.next_shuoshi_day is not None
    }
    return Template(
        "new_topic.html",
        context={
            "allowed": allowed,
            "villages": villages,
            "village_names": {v.id: v.name for v in villages},
            "workflows": workflows,
            "default_workflow": default,
            "next_shuoshi_days": next_days,
            "values": values,
            "problems": problems,
            "limits": max_lengths(TopicCreate),
        },
        status_code=status if allowed else 403,
    )


class NewTopicPageController(PageController):
    """立项: the form, and the topic's page once it is opened."""

    path = "/topics/new"

    @get("/", operation_id="new_topic_page")
    async def new_topic(self, principal: SignedIn) -> Template:
        return await _new_topic_form(principal, {}, {})

    @post("/", operation_id="new_topic_submit", status_code=303)
    async def new_topic_submit(self, principal: SignedIn, data: FormData) -> Template | Redirect:
        values, problems = parse_form(data, TopicCreate)
        if values is None:
            return await _new_topic_form(principal, data, problems, 422)
        try:
            opened = await topics.open_topic(principal, values)
        except ValidationFailed as refused:
            found = {e["field"]: e["message"] for e in refused.errors}
            return await _new_topic_form(principal, data, found, 422)
        except DomainError as refused:
            return await _new_topic_form(principal, data, {"form": refused.detail}, 403)
        return Redirect(f"/topics/{opened.id}", status_code=303)
