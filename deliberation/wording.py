"""Our own Chinese wording, with full-width punctuation."""

from __future__ import annotations

_FULL_WIDTH = str.maketrans(
    {",": "\uff0c", ":": "\uff1a", ";": "\uff1b", "(": "\uff08", ")": "\uff09"}
)


def zh(wording: str, **values: str) -> str:
    """``wording`` with full-width punctuation (，：；（）), then ``values`` (people's
    text) put in as they are. Fields are plain ``{name}``."""
    return wording.translate(_FULL_WIDTH).format(**values)


RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
"""Satisfaction ratings in Chinese, in the order they are offered."""

ADOPTION_LABELS = {
    "adopted": "已采纳",
    "partly_adopted": "部分采纳",
    "not_adopted": "未采纳",
    "unanswered": "尚未答复",
}
STANCE_LABELS = {"support": "支持", "oppose": "反对", "suggestion": "建议"}
"""Opinion stances in Chinese, in the order they are offered."""
