"""What the pages rest on, without a browser: the templates' Jinja environment (a
name missing from a page's context fails loudly; an absent optional field stays
empty), form parsing with problems per field, and where sign-in may send you."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError
from litestar import Litestar


def test_a_missing_context_name_is_an_error_but_an_absent_field_is_empty(app: Litestar) -> None:
    env = app.template_engine.engine  # type: ignore[union-attr]
    with pytest.raises(UndefinedError):
        env.from_string("<p>{{ nothing }}</p>").render()
    with pytest.raises(UndefinedError):
        env.from_string("{% if nothing %}x{% endif %}").render()
    optional = (
        "{{ v.stance }}|{% if v.stance == 'support' %}checked{% endif %}|{{ v.stance or '-' }}"
    )
    assert env.from_string(optional).render(v={}) == "||-"
    assert env.from_string(optional).render(v={"stance": "support"}) == "support|checked|support"
    assert env.from_string("{{ 'a' if nothing is defined else 'b' }}").render() == "b"


def test_a_page_form_names_each_problem_next_to_its_field() -> None:
    from api.forms import MISSING, MISSING_CHOICE, UNKNOWN, parse_form
    from api.pages.topic_forms import RECORD_ACTION_FORMS
    from deliberation.schemas import OpinionCreate

    # An empty text says 请填写此项; an unchosen choice says 请选择一项.
    assert parse_form({"_csrf_token": "t"}, OpinionCreate) == (
        None,
        {"content": MISSING, "stance": MISSING_CHOICE},
    )
    assert parse_form({"content": "好", "stance": "maybe"}, OpinionCreate)[1] == {
        "stance": "取值无效"
    }
    # A field the form does not have is the form's problem, said at its top.
    assert parse_form({"content": "好", "stance": "support", "x": "1"}, OpinionCreate)[1] == {
        "form": UNKNOWN
    }
    value, _ = parse_form({"content": "好", "stance": "support"}, OpinionCreate)
    assert value is not None and value.stance == "support"
    # The roster: a bad attendance is named as such, not as "nobody on the roster".
    minutes = RECORD_ACTION_FORMS["minutes"]
    posted = {
        "summary": "s",
        "decisions": "d",
        "attendee_name": ["陈", ""],
        "attendee_unit": ["镇", ""],
        "attendee_attendance": ["absent", "present"],
    }
    assert parse_form(minutes.fields(posted), minutes.shape)[1] == {"attendees": "取值无效"}
    empty = {**posted, "attendee_name": ["", ""]}
    assert parse_form(minutes.fields(empty), minutes.shape)[1] == {"attendees": MISSING}
    assert minutes.missing["attendees"] == "请至少填写一位参会人员的姓名"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "https://evil.example",
        "/\\evil",
        "",
    ],
)
def test_sign_in_returns_only_to_this_sites_pages(target: str) -> None:
    from api.pages.signin import safe_next

    assert safe_next(target) == "/me"


def test_sign_in_returns_to_the_page_it_came_from() -> None:
    from api.pages.signin import safe_next

    assert safe_next("/topics/7") == "/topics/7"
    assert safe_next("/notices?q=路灯") == "/notices?q=路灯"
