"""Charts for the statistics page: SVG drawn on the server by pygal, shown as images
(the page's content security policy allows no inline style, an image's own SVG keeps
its styles) with their numbers as a table beneath for every reader."""

from __future__ import annotations

import base64
import functools

import pygal
from pygal.style import Style

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#555555",
    colors=("#1f4e96", "#2e7d32", "#b26a00", "#8a1410"),
    font_family="'Noto Sans CJK SC', 'Noto Sans SC', sans-serif",
    label_font_size=22,
    major_label_font_size=22,
    value_font_size=22,
    value_label_font_size=22,
    title_font_size=22,
    legend_font_size=22,
)


def _options(rows: int) -> dict[str, object]:
    # Drawn for a phone's width (it scales down on a phone, up to 480 px elsewhere):
    # the labels whole, the value printed on each bar instead of a value axis.
    return {
        "width": 480,
        "height": max(140, 48 * rows + 24),
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "print_values": True,
        # In a horizontal chart pygal draws the value axis as the x axis.
        "show_x_labels": False,
        "show_x_guides": False,
        "truncate_label": -1,
        "margin": 8,
        "margin_left": 40,  # pygal measures CJK labels as narrower than they are
    }


def bars(labels: list[str], values: list[float], *, percent: bool = False) -> str:
    """A horizontal bar chart as a ``data:`` URL (each bar labelled with its value)."""
    return _bars(tuple(labels), tuple(values), percent)


@functools.lru_cache(maxsize=1024)
def _bars(labels: tuple[str, ...], values: tuple[float, ...], percent: bool) -> str:
    # Drawing takes ~5 ms; the same figures are asked for again and again.
    chart = pygal.HorizontalBar(**_options(len(labels)))
    if percent:
        chart.value_formatter = lambda v: f"{v:.0f}%"
        chart.range = (0, 100)
    else:
        chart.value_formatter = lambda v: f"{v:g}"
    # pygal draws the first bar at the bottom: reversed, they read as the table does.
    chart.x_labels = list(reversed(labels))
    chart.add("", list(reversed(values)))
    return _data_url(chart.render(is_unicode=True))


def _data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
