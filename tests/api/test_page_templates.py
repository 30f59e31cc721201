"""The page templates' Jinja environment: a name missing from a page's context fails
loudly; an absent key of a dict the page was given (an optional field) stays empty."""

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
