"""The documents' faces, cut once per machine and kept by what they are made of.

A cut's file name is a digest of its recipe: the source file's bytes (not its path), the
face of a collection, synthetic bold or not, the characters kept, this module's
``CUT_VERSION`` and fontTools' version. So every checkout, every ``.venv`` and every user
of one cache folder share one cut of the same font, and a cut made by other code is never
taken for this one.

Two processes that need the same cut at once never corrupt it and never wait for
anything but that cut: each cut is written to a file of its own and renamed into place
(readers see no file or the whole file), under a lock of its own (``<name>.lock``,
``flock``: released when its holder dies). A process that finds a cut's lock taken moves
on to the next cut and comes back for that one last, so two render workers starting
together share the work instead of queueing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CUT_VERSION = "3"  # bump when the cut changes: every machine then makes new ones
SYNTHETIC_BOLD_SHIFT = 0.03  # of an em


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "haoshangliang" / "fonts"


@cache
def common_characters() -> tuple[int, ...]:
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
    return tuple(sorted(found))


_digests: dict[tuple[str, int, int, int, int], str] = {}


def content_digest(path: Path) -> str:
    """SHA-256 of the file's bytes (~0.2 s for the five faces; once per process and
    version of the file)."""
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _digests:
        with open(path, "rb") as source:
            _digests[key] = hashlib.file_digest(source, "sha256").hexdigest()
    return _digests[key]


@dataclass(frozen=True)
class Cut:
    """One cut: what it is made of, where it is kept, and what to say while making it."""

    source: Path
    face: int
    bold: bool
    path: Path
    label: str = ""  # shown while it is cut, e.g. "仿宋（正文）FandolFang"
    seconds: int = 10  # about how long it takes on one idle core (measured)


def recipe(source: Path, face: int, bold: bool) -> str:
    """Everything the cut's bytes depend on, as one string."""
    import fontTools

    characters = hashlib.sha256(json.dumps(common_characters()).encode()).hexdigest()
    return json.dumps(
        {
            "cut": CUT_VERSION,
            "fonttools": fontTools.version,
            "source": content_digest(source),
            "face": face,
            "bold": SYNTHETIC_BOLD_SHIFT if bold else 0,
            "characters": characters,
        },
        sort_keys=True,
    )


def planned(
    source: Path, face: int, bold: bool, folder: Path, label: str = "", seconds: int = 10
) -> Cut:
    """The cut of ``source`` (its ``face``), named by its recipe's digest."""
    digest = hashlib.sha256(recipe(source, face, bold).encode()).hexdigest()[:20]
    name = f"{source.stem}-{digest}.otf"
    return Cut(source, face, bold, folder / name, label, seconds)


def embolden(font: Any, shift: float = SYNTHETIC_BOLD_SHIFT) -> None:
    """Draw every glyph twice, ``shift`` of an em apart (the classic synthetic bold: the
    union of the two copies, under the nonzero fill rule, thickens each vertical stroke
    and keeps every advance width, so nothing moves on the page)."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont

    assert isinstance(font, TTFont)
    dx = round(font["head"].unitsPerEm * shift)
    glyphs = font.getGlyphSet()
    if "CFF " in font:
        cff = font["CFF "].cff
        top = cff.topDictIndex[0]
        strings = top.CharStrings
        for name in font.getGlyphOrder():
            recording = DecomposingRecordingPen(glyphs)
            glyphs[name].draw(recording)
            pen = T2CharStringPen(glyphs[name].width, glyphs)
            recording.replay(pen)
            recording.replay(TransformPen(pen, (1, 0, 0, 1, dx, 0)))
            charstring = pen.getCharString(
                private=strings[name].private, globalSubrs=strings[name].globalSubrs
            )
            strings[name] = charstring
        cff.fontNames = [f"{cff.fontNames[0]}-SyntheticBold"]
    else:
        table = font["glyf"]
        drawn = {}
        for name in font.getGlyphOrder():
            recording = DecomposingRecordingPen(glyphs)
            glyphs[name].draw(recording)
            pen = TTGlyphPen(None)
            recording.replay(pen)
            recording.replay(TransformPen(pen, (1, 0, 0, 1, dx, 0)))
            drawn[name] = pen.glyph()
        for name, glyph in drawn.items():
            table[name] = glyph
    names = font["name"]
    postscript = names.getDebugName(6) or "Font"
    names.setName(f"{postscript}-SyntheticBold", 6, 3, 1, 0x409)
    names.setName(f"{postscript}-SyntheticBold", 6, 1, 0, 0)
    font["OS/2"].usWeightClass = 700


def make(
    source: Path,
    target: Path,
    *,
    face: int = 0,
    bold: bool = False,
    characters: Sequence[int] | None = None,
) -> None:
    """``source`` (its ``face``) cut to ``characters`` (the common ones by default),
    renumbered from 0, without layout tables or hinting; emboldened if ``bold``. Written
    to a file of its own, then renamed to ``target``: never seen half-written."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    # FontForge's timestamp table: fontTools cannot subset it and says so on stderr.
    options.drop_tables = [*options.drop_tables, "FFTM"]
    # The source's own timestamp (the same bytes from the same recipe); its bounding
    # boxes kept, which subsetting leaves true, unless emboldening widens the glyphs:
    # recomputing them from every outline was half of the cut's time (measured).
    font = TTFont(source, fontNumber=face, recalcBBoxes=bold, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters or common_characters())
    subsetter.subset(font)
    if bold:
        embolden(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            font.save(out)
        os.chmod(partial, 0o644)  # mkstemp's file is the owner's only
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


@contextlib.contextmanager
def _lock(cut: Cut, *, wait: bool) -> Iterator[bool]:
    """This cut's own lock; without ``wait``, False at once when another process has it."""
    cut.path.parent.mkdir(parents=True, exist_ok=True)
    with open(cut.path.with_name(cut.path.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


Say = Callable[[str], None]


def _make_one(cut: Cut, number: int, total: int, say: Say | None, *, wait: bool) -> bool:
    """Makes ``cut`` unless it exists; False when another process is making it and
    ``wait`` is off."""
    with _lock(cut, wait=wait) as mine:
        if not mine:
            return False
        if not cut.path.exists():
            if say:
                say(f"切字体 {number}/{total}：{cut.label}（约 {cut.seconds} 秒）")
            make(cut.source, cut.path, face=cut.face, bold=cut.bold)
    return True


def missing(cuts: Sequence[Cut]) -> list[Cut]:
    """The cuts not made yet, each once (two roles may share one)."""
    seen: dict[Path, Cut] = {}
    for cut in cuts:
        if not cut.path.exists():
            seen.setdefault(cut.path, cut)
    return list(seen.values())


def _make_in_child(cut: Cut, number: int, total: int) -> None:
    def say(text: str) -> None:
        # One write a line: two children printing at once never share a line.
        sys.stdout.flush()
        os.write(sys.stdout.fileno(), f"{text}\n".encode())

    _make_one(cut, number, total, say, wait=True)


def ensure(cuts: Sequence[Cut], say: Say | None = None, *, processes: int = 1) -> None:
    """Makes the cuts that are missing: with ``processes`` > 1, that many at once."""
    todo = missing(cuts)
    total = len(todo)
    if not todo:
        return
    if processes > 1 and total > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: the children need nothing but what this process has already imported
        # (spawn would import WeasyPrint again in each, ~3 s).
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(processes, total), mp_context=context) as pool:
            for done in [
                pool.submit(_make_in_child, cut, number, total)
                for number, cut in enumerate(todo, start=1)
            ]:
                done.result()
        return
    others = []
    for number, cut in enumerate(todo, start=1):
        if not _make_one(cut, number, total, say, wait=False):
            others.append((number, cut))
    for number, cut in others:
        if say and not cut.path.exists():
            say(f"等待另一进程切完字体：{cut.label}")
        _make_one(cut, number, total, say, wait=True)
