"""HTML → PDF with WeasyPrint, safely. Pure functions: they run in a worker process.

- Jinja autoescapes everything: user text never becomes markup.
- ``ProjectFilesFetcher`` serves only the project's own templates and font files
  and refuses every other URL (other files, http, https, ftp, data, redirects).
- Fonts: one face per role (title, body, headings, page numbers), each from a file the
  project names, cut to the common characters; nothing else on the machine is seen
  (``fonts.py``). Always ``lang="zh-CN"``.
"""

from __future__ import annotations

import atexit
import io
import logging
import mimetypes
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import segno
from markupsafe import Markup, escape

from deliberation.documents import typeset
from deliberation.documents.fonts import Face, confined_fontconfig
from deliberation.documents.fonts import faces as font_faces
from deliberation.numbers import percent

with confined_fontconfig():  # WeasyPrint loads fontconfig's configuration on import
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pdf"
# The type area is 156 mm wide (GB/T 9704): 442.2 points.
TYPE_WIDTH = 156 * 72 / 25.4
TITLE_SIZE = 22.0

logger = logging.getLogger("deliberation.documents")


class RefusedURL(ValueError):
    """A URL the renderer will not fetch."""


class ProjectFilesFetcher(URLFetcher):  # type: ignore[misc]
    """Serves the project's PDF templates and font files; refuses everything else."""

    def __init__(self, roots: tuple[Path, ...] | None = None) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        allowed = roots or (TEMPLATES, *{face.cut.parent for face in fonts()})
        self.roots = tuple(root.resolve() for root in allowed)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"refused (not one of the project's files): {url[:200]}")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise RefusedURL(f"refused (outside the project's files): {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


@cache
def fonts() -> tuple[Face, ...]:
    return font_faces()


@cache
def measure(role: str) -> typeset.Measure:
    """Widths in ems of the face serving ``role``, read from its cut (1 em for a
    character outside it: the full fallback face is CJK, square)."""
    from fontTools.ttLib import TTFont

    face = next(f for f in fonts() if f.role.key == role)
    font = TTFont(face.cut, lazy=True)
    upem = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    advances = {code: metrics[name][0] / upem for code, name in font.getBestCmap().items()}
    return lambda text: sum(advances.get(ord(c), 1.0) for c in text)


def title_lines(text: str, keep_whole: list[str] | tuple[str, ...] = ()) -> list[str]:
    """A title's lines: whole words, balanced (``typeset.title_lines``)."""
    return typeset.title_lines(text, measure("title"), TYPE_WIDTH / TITLE_SIZE, keep_whole)


def fitting_size(text: str, role: str, size: float, spacing: float = 0.0) -> float:
    """The size (points) at which ``text`` in ``role``'s face, with ``spacing`` points
    between letters, fits the type area's width on one line; ``size`` at most."""
    width = TYPE_WIDTH - spacing * len(text) - 1  # a point to spare for rounding
    return typeset.fitting_size(text, measure(role), width, size)


BODY_SIZE = 16.0
BODY_SPACING = -0.22  # points between letters (print.css: 28 characters a line)
DATE_INDENT = 4.0  # ems from the right: the date of a sealed sign-off (GB/T 9704 §7.3.5.1)


def signoff_place(issuer: str, date_text: str) -> dict[str, float]:
    """Where a sealed sign-off's lines go, in ems from the type area's right edge: the
    date four characters in, the issuer centred over the date, the seal's centre."""
    measure_body = measure("body")

    def width(text: str) -> float:
        return measure_body(text) + len(text) * BODY_SPACING / BODY_SIZE

    centre = DATE_INDENT + width(date_text) / 2
    return {
        "date_right": DATE_INDENT,
        "issuer_right": round(max(0.0, centre - width(issuer) / 2), 3),
        "seal_right": round(centre, 3),
    }


_per_thread = threading.local()


def font_configuration() -> FontConfiguration:
    """One font configuration per thread, made within the confined fontconfig: the
    @font-face files are read once, not at every render."""
    config = getattr(_per_thread, "font_config", None)
    if config is None:
        with confined_fontconfig():
            config = _per_thread.font_config = FontConfiguration()
        if threading.current_thread() is threading.main_thread():
            atexit.register(_forget_font_configuration)
    return config


def _forget_font_configuration() -> None:
    """The main thread's font configuration is let go at exit, while WeasyPrint's
    libraries are still loaded. Left to the interpreter's last step (clearing the main
    thread's state, after the modules, and with them the libraries, are gone), freeing
    its Pango font map jumped into unloaded code: the process died with SIGSEGV (exit
    139) after all its work was done, e.g. pytest after rendering in a test."""
    _per_thread.__dict__.pop("font_config", None)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\uf8ff\U000e0000-\U0010ffff]")


def _printable(value: Any) -> Any:
    """Every printed value without control characters, private-use or tag-plane
    characters: no face has them, and WeasyPrint could not place a table row holding
    one (nor any row after it). Names refuse them now; a record stored before may still
    carry one."""
    if isinstance(value, Markup):
        return Markup(_CONTROL.sub("", value))
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_printable,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["title_lines"] = title_lines
    env.filters["fitting_size"] = fitting_size
    env.filters["keep"] = keep_whole
    env.filters["percent"] = percent
    env.globals["signoff_place"] = signoff_place
    env.globals["font_faces"] = [
        {"family": face.role.family, "url": face.cut.resolve().as_uri()} for face in fonts()
    ]
    return env


def qr_svg(text: str) -> str:
    """An inline SVG QR code (vector: it stays sharp at any print size)."""
    return str(segno.make(text, error="m").svg_inline(omitsize=True, border=0))


@dataclass(frozen=True)
class RenderJob:
    """Everything one render needs; plain data, so it can cross to a worker process."""

    template: str
    context: Mapping[str, Any]
    qr_text: str
    verify_label: str
    title: str
    author: str
    pdf_a: bool = False


def render_html(job: RenderJob) -> str:
    template = environment().get_template(job.template)
    return template.render(
        **job.context,
        qr_svg=qr_svg(job.qr_text),
        verify_label=job.verify_label,
        document_title=job.title,
        document_author=job.author,
    )


def html_to_pdf(html: str, *, pdf_a: bool = False) -> bytes:
    document = HTML(
        string=html,
        base_url=TEMPLATES.as_uri() + "/",
        url_fetcher=ProjectFilesFetcher(),
    )
    # Tagged (headings, paragraphs, tables in a structure tree, for screen readers);
    # a published file is also PDF/A-3b, which allows the tags (docs/decisions.md).
    options: dict[str, Any] = {"pdf_tags": True}
    if pdf_a:
        options["pdf_variant"] = "pdf/a-3b"
    out = io.BytesIO()
    document.write_pdf(out, font_config=font_configuration(), **options)
    return out.getvalue()


def render_pdf(job: RenderJob) -> bytes:
    """The PDF for ``job`` (runs in a worker process, or inline in the CLI)."""
    return html_to_pdf(render_html(job), pdf_a=job.pdf_a)


def warm_up() -> None:
    """Make the font cuts if needed, import and lay out once, so a worker's first real
    render is not the slow one."""
    environment()
    typeset.warm_up()
    html_to_pdf('<html lang="zh-CN"><body>预热</body></html>')


def keep_whole(text: object, runs: bool = True) -> Markup:
    """Body text, escaped, with the runs a line must not break inside set in no-break
    spans (``typeset.unbreakable_runs``). Markup (a ``{% filter keep %}`` block of
    text and values, already escaped) is read back as the text it shows."""
    value = text.unescape() if isinstance(text, Markup) else str(text)
    out, at = [], 0
    for start, end in typeset.unbreakable_runs(value, runs=runs):
        out.append(escape(value[at:start]))
        out.append(Markup('<span class="nb">{}</span>').format(value[start:end]))
        at = end
    out.append(escape(value[at:]))
    return Markup("").join(out)
