"""Bar charts of the year's figures, as SVG drawn by pygal: for the statistics page as
images (its content security policy allows no inline style; an image's own SVG keeps
its styles), with their numbers as a table beneath for every reader; and for the annual
report's PDF, inline in the documents' faces and black."""

from __future__ import annotations

import base64
import functools
import unicodedata

import pygal
from pygal.style import Style

from deliberation import numbers
from deliberation.statistics import TownshipFigures
from deliberation.wording import ADOPTION_LABELS, RATING_LABELS

FONT_PX = 22
"""Every text of a chart (drawn 480 px wide, scaled to the screen or the page)."""


def _style(foreground: str, subtle: str, colors: tuple[str, ...], fonts: str) -> Style:
    # 22 px throughout: drawn 480 px wide, scaled down to a phone or to 110 mm on paper.
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground=foreground,
        foreground_strong=foreground,
        foreground_subtle=subtle,
        colors=colors,
        font_family=fonts,
        label_font_size=FONT_PX,
        major_label_font_size=FONT_PX,
        value_font_size=FONT_PX,
        value_label_font_size=FONT_PX,
        title_font_size=FONT_PX,
        legend_font_size=FONT_PX,
    )


STYLE = _style(
    "#1a1a1a",
    "#555555",
    ("#1f4e96", "#2e7d32", "#b26a00", "#8a1410"),
    "'Noto Sans CJK SC', 'Noto Sans SC', sans-serif",
)
PRINT = _style(
    "#000000",
    "#444444",
    ("#595959", "#8c8c8c", "#bfbfbf", "#262626"),
    "'HSL Song', 'Noto Serif SC', serif",
)
"""The documents' faces and no colour: the report is printed and stamped."""


def drawn_width(label: str, font_px: float = FONT_PX) -> float:
    """How wide a label is drawn: a CJK (wide) character a full em, others ~0.6 em."""
    return sum(font_px if unicodedata.east_asian_width(c) in "WF" else 0.6 * font_px for c in label)


def _margin_left(labels: tuple[str, ...], style: Style) -> int:
    """Room left of pygal's own label box so the longest label is drawn whole: pygal
    reckons every character 0.6 em wide, a CJK character is a full em (and the print
    face a little wider still)."""
    if not labels:
        return 8
    scale = 1.08 if style is PRINT else 1.0
    shortfall = max(drawn_width(label) * scale - 0.6 * FONT_PX * len(label) for label in labels)
    return max(8, round(shortfall) + 12)


def _options(rows: int, style: Style, labels: tuple[str, ...] = ()) -> dict[str, object]:
    # Drawn for a phone's width (it scales down on a phone, up to 480 px elsewhere):
    # the labels whole, the value printed on each bar instead of a value axis.
    return {
        "width": 480,
        # On paper, bars of a fixed 32 px (about 21 pt at 110 mm): a chart of every stage
        # fits under the report's opening paragraph instead of leaving page 1 two-thirds
        # blank (issue 25); on screen, rows of 48 px for fingers.
        "height": 32 * rows + 16 if style is PRINT else max(140, 48 * rows + 24),
        "style": style,
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "print_values": True,
        # In a horizontal chart pygal draws the value axis as the x axis.
        "show_x_labels": False,
        "show_x_guides": False,
        "truncate_label": -1,
        "margin": 8,
        # pygal measures CJK labels as narrower than they are: room for the longest.
        "margin_left": _margin_left(labels, style),
    }


def bars(labels: list[str], values: list[float], *, percent: bool = False) -> str:
    """A horizontal bar chart as a ``data:`` URL (each bar labelled with its value)."""
    return _data_url(_bars(tuple(labels), tuple(values), percent, printed=False))


def printed_bars(labels: list[str], values: list[float], *, percent: bool = False) -> str:
    """The same chart as SVG markup for a PDF, in the documents' faces and greys."""
    return _bars(tuple(labels), tuple(values), percent, printed=True)


@functools.lru_cache(maxsize=1024)
def _bars(
    labels: tuple[str, ...], values: tuple[float, ...], percent: bool, *, printed: bool
) -> str:
    # Drawing takes ~5 ms; the same figures are asked for again and again.
    chart = pygal.HorizontalBar(**_options(len(labels), PRINT if printed else STYLE, labels))
    if percent:
        chart.value_formatter = lambda v: numbers.percent(v, 100)  # as the table beneath prints it
        chart.range = (0, 100)
    else:
        chart.value_formatter = lambda v: f"{v:g}"
    # pygal draws the first bar at the bottom: reversed, they read as the table does.
    chart.x_labels = list(reversed(labels))
    chart.add("", list(reversed(values)))
    return str(chart.render(is_unicode=True))


def _data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def of_figures(figures: TownshipFigures, *, printed: bool = False) -> dict[str, str | None]:
    """The four charts of a set of figures (None where there is nothing to draw): topics
    by stage (each in its own workflow's words; prefixed by the workflow's name when
    several workflows have topics), each timed stage's on-time share, opinions by
    answer, ratings."""
    draw = printed_bars if printed else bars
    several = len(figures.workflows) > 1
    states = [
        (f"{w.label}·{s.label}" if several else s.label, s.topics)
        for w in figures.workflows.values()
        for s in w.states
        if s.topics
    ]
    timed = [s for s in figures.stages if s.finished]
    return {
        "by_state": draw([label for label, _ in states], [n for _, n in states])
        if states
        else None,
        "on_time": draw(
            [s.label for s in timed],
            [100 * (s.on_time_share or 0) for s in timed],
            percent=True,
        )
        if timed
        else None,
        "adoption": draw(
            [ADOPTION_LABELS[k] for k in figures.opinions_by_adoption],
            list(figures.opinions_by_adoption.values()),
        )
        if any(figures.opinions_by_adoption.values())
        else None,
        "ratings": draw(
            [RATING_LABELS[k] for k in figures.satisfaction_by_rating],
            list(figures.satisfaction_by_rating.values()),
        )
        if any(figures.satisfaction_by_rating.values())
        else None,
    }
