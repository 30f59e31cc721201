"""Line breaking and fitting for the documents' headings (GB/T 9704 §7.2, §7.3.1).

A long title is set in lines that keep words whole and stack as a trapezoid or a
diamond, never leaving a line of one or two characters; a masthead stays on its line,
its size brought down until it fits. Words come from jieba; place names of the township
(which jieba does not know: 塘/背村) and numbers with their unit (2026年) are never split.
Widths are measured with the advance widths of the face that prints the text, so a line
that fits here fits on the page.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache

# Punctuation that may not start a line (it closes something) or end one (it opens).
CLOSING = set("”’」』》〉）】〕，。、；：！？…—·%")
OPENING = set("“‘「『《〈（【〔")
# Function words that lean on the word before them: a line does not start with them.
LEANING = {"的", "之", "等"}
# Conjunctions that lead into the words after them: a line does not end with them.
LEADING = {"与", "和", "及", "并", "或", "暨"}
NUMBER_WITH_UNIT = re.compile(r"[0-9０-９]+[年月日号项个%]?")

Measure = Callable[[str], float]
"""The width of a text, in ems of the face that prints it."""


@cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary (about a second) before the first title needs it."""
    _jieba()


def _words(text: str) -> list[str]:
    jieba = _jieba()
    return [w for w in jieba.cut(text, HMM=True) if w]  # type: ignore[attr-defined]


def forbidden_breaks(text: str, keep_whole: Iterable[str] = ()) -> set[int]:
    """Offsets inside ``text`` where a line may not break: inside a word, inside a place
    name or a number with its unit, before closing punctuation or a leaning word (的),
    after opening punctuation or a conjunction (与)."""
    allowed = set(itertools.accumulate(len(w) for w in _words(text)))
    forbidden = set(range(1, len(text))) - allowed
    spans = [m.span() for m in NUMBER_WITH_UNIT.finditer(text)]
    for name in keep_whole:
        if name:
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(name), text)]
    for start, end in spans:
        forbidden.update(range(start + 1, end))
    for i in range(1, len(text)):
        if text[i] in CLOSING or text[i] in LEANING or text[i - 1] in OPENING | LEADING:
            forbidden.add(i)
    return forbidden


QUOTED_BREAK = 10.0  # ems: worse than any imbalance a title line can have


def _quoted(text: str) -> list[bool]:
    """For each offset, whether a break there falls inside a quotation “…”."""
    depth, inside = 0, []
    for ch in text:
        inside.append(depth > 0)
        depth += (ch in OPENING) - (ch in CLOSING and ch in "”’」』》〉）】〕")
    inside.append(False)
    return inside


def _shape_penalty(widths: Sequence[float]) -> float:
    """0 for a trapezoid (lines growing or shrinking steadily) or a diamond (widest in
    the middle); more the further from both."""
    n = len(widths)
    if n < 3:
        return 0.0
    rising = all(a <= b for a, b in itertools.pairwise(widths))
    falling = all(a >= b for a, b in itertools.pairwise(widths))
    middle = max(widths[1:-1])
    diamond = middle >= widths[0] and middle >= widths[-1]
    return 0.0 if rising or falling or diamond else 1.0


MOST_LINES = 5
NEAR = 6  # characters either side of an even split that a break may move


def title_lines(
    text: str,
    measure: Measure,
    width: float,
    keep_whole: Iterable[str] = (),
    shortest: int = 3,
) -> list[str]:
    """``text`` in as few lines of at most ``width`` ems as it takes, broken between
    words, each line at least ``shortest`` characters, the lengths as even as can be
    (then a trapezoid or diamond). One line if it fits; the text as it is if no break
    works or it would take more than five lines (the page then wraps it).

    Breaks are looked for within ``NEAR`` characters of an even split, so the search
    stays small (at most 13⁴ candidates) however long the text."""
    total = measure(text)
    if total <= width or len(text) < 2 * shortest or total > MOST_LINES * width:
        return [text]
    forbidden = forbidden_breaks(text, keep_whole)
    allowed = {i for i in range(shortest, len(text) - shortest + 1) if i not in forbidden}
    inside = _quoted(text)
    for count in range(max(2, math.ceil(total / width)), MOST_LINES + 1):
        near = [
            sorted(i for i in allowed if abs(i - round(len(text) * k / count)) <= NEAR)
            for k in range(1, count)
        ]
        best: tuple[float, list[str]] | None = None
        for cut in itertools.product(*near):
            if any(a >= b for a, b in itertools.pairwise(cut)):
                continue
            edges = (0, *cut, len(text))
            lines = [text[a:b] for a, b in itertools.pairwise(edges)]
            if any(len(line) < shortest for line in lines):
                continue
            widths = [measure(line) for line in lines]
            if max(widths) > width:
                continue
            # Meaning first: a break inside a quotation (the topic's subject) only where
            # no other will do. Then even lines; then the shape; then a longer first line.
            score = QUOTED_BREAK * sum(inside[i] for i in cut)
            score += (max(widths) - min(widths)) + 4 * _shape_penalty(widths)
            score += 0.01 * (widths[-1] > widths[0])
            if best is None or score < best[0]:
                best = (score, lines)
        if best is not None:
            return best[1]
    return [text]


def fitting_size(
    text: str, measure: Measure, width: float, size: float, step: float = 0.5
) -> float:
    """The largest size (points, in ``step``s, at most ``size``) at which ``text`` fits
    ``width`` points on one line."""
    ems = measure(text)
    if ems <= 0 or ems * size <= width:
        return size
    fitted = width / ems
    return max(step, (fitted // step) * step)


UNITS = ("%", "个工作日", "个", "公里", "米", "盏", "项", "件", "名", "人次", "条", "元", "万元")
# Body text: what a line may not break inside (issue 25). WeasyPrint breaks CJK text
# between any two characters; these runs are set in a no-break span instead.
KEEP_WHOLE = re.compile(
    r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日"  # a date: never 2026年12月31/日
    r"|[0-9]+(?:\.[0-9]+)?(?:" + "|".join(UNITS) + ")?"  # a number with its unit
    r"|[^、：，。；（）“”\s]{0,5}（[^（）]{1,10}）"  # an aside with its word: 张三（联络员）
    r"|[\u4e00-\u9fff]{2,4}："  # a label: 状态：
)
TAIL = 3
"""A paragraph's last line holds at least this many characters (its punctuation aside)."""


def unbreakable_runs(text: str, *, runs: bool = True) -> list[tuple[int, int]]:
    """Where ``text`` may not break, as (start, end) spans, merged: dates, numbers with
    their unit, short asides in brackets and labels, each with the closing punctuation
    after it; and the last three characters, so that no last line is a stub. Without
    ``runs``, only the last three (a narrow table column, which a run could overflow)."""
    spans = []
    for match in KEEP_WHOLE.finditer(text) if runs else ():
        end = match.end()
        while end < len(text) and text[end] in CLOSING:
            end += 1
        spans.append((match.start(), end))
    # The tail: the last three characters that are not punctuation, and what follows.
    start, counted = len(text), 0
    while start > 0 and counted < TAIL:
        start -= 1
        if text[start] not in CLOSING and not text[start].isspace():
            counted += 1
    while start > 0 and text[start - 1] in OPENING:
        start -= 1
    if start < len(text):
        spans.append((start, len(text)))
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin < merged[-1][1]:  # overlapping; side by side may break
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged
