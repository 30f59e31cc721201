"""The Chinese fonts the PDFs use when the machine has none of its own.

``pylopdf-fonts-zh-cn`` ships Noto Serif SC and Noto Sans SC (OFL), so Chinese
renders after ``pip install`` alone. Embedded as they are, each font in a PDF
weighs ~100 KB however few characters it shows (WeasyPrint keeps every glyph
slot up to the highest one used, and CJK glyph ids run to 65 000). So the PDFs
use, first, a *common* cut of each font: the 6 763 characters of GB 2312 plus
ASCII and punctuation, renumbered from 0, which brings a one-page notice from
~330 KB to ~135 KB. Any character outside it falls back to the full font, so a
rare character in a name still prints.

The common cuts are made once per machine with fontTools (~20 s for both) and
kept in a cache folder; until then rendering waits for them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pylopdf_fonts_zh_cn

PACKAGE_VERSION = getattr(pylopdf_fonts_zh_cn, "__version__", "0")


@dataclass(frozen=True)
class FontSet:
    serif: Path
    sans: Path
    serif_common: Path
    sans_common: Path

    @property
    def folders(self) -> tuple[Path, ...]:
        return tuple({p.parent.resolve() for p in (self.serif, self.sans, self.serif_common)})


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "haoshangliang" / f"fonts-{PACKAGE_VERSION}"


def common_characters() -> list[int]:
    """GB 2312 (every character it encodes), ASCII, and typographic punctuation."""
    found = set(range(0x20, 0x7F))
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                found.add(ord(bytes((first, second)).decode("gb2312")))
    # CJK symbols and punctuation, full-width forms, general punctuation, · × ÷.
    found.update(range(0x3000, 0x3040))
    found.update(range(0xFF01, 0xFF5F))
    found.update(range(0x2010, 0x2028))
    found.update((0xB7, 0xD7, 0xF7))
    return sorted(found)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several render workers start at once
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _common_cut(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.hinting = False
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=common_characters())
    subsetter.subset(font)
    partial = target.with_suffix(".partial")
    font.save(partial)
    os.replace(partial, target)


def font_set(folder: Path | None = None) -> FontSet:
    """The packaged fonts and their common cuts, making the cuts if they are missing."""
    folder = folder or cache_folder()
    serif = pylopdf_fonts_zh_cn.serif_path()
    sans = pylopdf_fonts_zh_cn.sans_path()
    fonts = FontSet(
        serif=serif,
        sans=sans,
        serif_common=folder / "NotoSerifSC-Common.otf",
        sans_common=folder / "NotoSansSC-Common.otf",
    )
    wanted = ((serif, fonts.serif_common), (sans, fonts.sans_common))
    if any(not target.exists() for _, target in wanted):
        with _locked(folder):
            for source, target in wanted:
                if not target.exists():
                    _common_cut(source, target)
    return fonts
