"""The faces of the official documents, each from a font file the project names.

GB/T 9704 sets each part of a document in its own face: the masthead and the title in
小标宋 (a heavy serif), the body in 仿宋, ``一、`` headings in 黑体, ``（一）`` headings in
楷体, page numbers in 宋体. Each of those *roles* lists the files that may serve it, best
first (Debian packages, then the Noto fonts that ``pip install`` brings); the first
file present serves the role. ``deliberation fonts`` says which file serves each role
and how to install what is missing (``make fonts`` does it).

Only these files are used. print.css names no system family, and WeasyPrint's
fontconfig is confined (``confined_fontconfig``) to a configuration whose only folder is
the pip fonts', so a font package installed for something else changes nothing: the same
install gives the same PDF on every machine.

Each role's file is cut once per machine to the 6 763 characters of GB 2312 plus ASCII
and punctuation, renumbered from 0 (fontTools, a few seconds a face, kept in a cache
folder). WeasyPrint keeps every glyph slot up to the highest one a document uses, and
CJK glyph ids run to 65 000, so an uncut face weighs ~100 KB in every PDF; a cut one
weighs a fraction of that. A character outside the cut falls back to the full Noto
face of the same style. Where a heavy role has only a regular file (the pip fallback),
the cut is emboldened: every glyph drawn twice, 3 % of an em apart.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pylopdf_fonts_zh_cn

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# FandolFang is taken from TeX Live's Chinese package without installing TeX (make fonts).
PROJECT_FONTS = PROJECT_ROOT / "var" / "fonts"
NOTO = Path("/usr/share/fonts/opentype/noto")
FANDOL = Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol")
# In Debian's Noto CJK collections the Simplified Chinese face is the third.
NOTO_SC = 2
CUT_VERSION = "2"  # bump when the cut changes, so every machine makes new ones
SYNTHETIC_BOLD_SHIFT = 0.03  # of an em


@dataclass(frozen=True)
class FontFile:
    """One font file (one face of it, for a collection) and what installs it."""

    name: str
    path: Path
    face: int = 0
    heavy: bool = False
    package: str = ""  # the Debian package; "" for the pip fonts, always present

    @property
    def present(self) -> bool:
        return self.path.is_file()


PIP_SERIF = FontFile("Noto Serif SC", pylopdf_fonts_zh_cn.serif_path())
PIP_SANS = FontFile("Noto Sans SC", pylopdf_fonts_zh_cn.sans_path())


@dataclass(frozen=True)
class Role:
    key: str
    label: str  # what the role is called in an office: shown by ``deliberation fonts``
    family: str  # the family print.css names
    fallback: str  # the full pip face for characters outside the cut
    candidates: tuple[FontFile, ...]
    heavy: bool = False


ROLES: tuple[Role, ...] = (
    Role(
        "title",
        "小标宋（版头、标题）",
        "HSL Title",
        PIP_SERIF.name,
        (
            FontFile(
                "Noto Serif CJK SC Black",
                NOTO / "NotoSerifCJK-Black.ttc",
                NOTO_SC,
                heavy=True,
                package="fonts-noto-cjk-extra",
            ),
            FontFile(
                "Noto Serif CJK SC Bold",
                NOTO / "NotoSerifCJK-Bold.ttc",
                NOTO_SC,
                heavy=True,
                package="fonts-noto-cjk",
            ),
            PIP_SERIF,
        ),
        heavy=True,
    ),
    Role(
        "body",
        "仿宋（正文）",
        "HSL Body",
        PIP_SERIF.name,
        (
            FontFile(
                "FandolFang", FANDOL / "FandolFang-Regular.otf", package="texlive-lang-chinese"
            ),
            FontFile("FandolFang", PROJECT_FONTS / "FandolFang-Regular.otf", package="make fonts"),
            PIP_SERIF,
        ),
    ),
    Role(
        "heading",
        "黑体（一级标题、表头）",
        "HSL Heading",
        PIP_SANS.name,
        (
            FontFile(
                "Noto Sans CJK SC",
                NOTO / "NotoSansCJK-Regular.ttc",
                NOTO_SC,
                package="fonts-noto-cjk",
            ),
            PIP_SANS,
        ),
    ),
    Role(
        "subheading",
        "楷体（二级标题）",
        "HSL Subheading",
        PIP_SERIF.name,
        (
            FontFile(
                "AR PL UKai CN",
                Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
                package="fonts-arphic-ukai",
            ),
            FontFile(
                "LXGW WenKai",
                Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"),
                package="fonts-lxgw-wenkai",
            ),
            PIP_SERIF,
        ),
    ),
    Role(
        "song",
        "宋体（页码）",
        "HSL Song",
        PIP_SERIF.name,
        (
            FontFile(
                "Noto Serif CJK SC",
                NOTO / "NotoSerifCJK-Regular.ttc",
                NOTO_SC,
                package="fonts-noto-cjk",
            ),
            PIP_SERIF,
        ),
    ),
)

# What `make fonts` installs with apt (as root), and the one file it takes from a package.
DEBIAN_PACKAGES = ("fonts-noto-cjk", "fonts-noto-cjk-extra", "fonts-arphic-ukai")
MAKE_FONTS = (*DEBIAN_PACKAGES, "make fonts")


@dataclass(frozen=True)
class Face:
    """The file serving a role on this machine, and its cut."""

    role: Role
    file: FontFile
    cut: Path

    @property
    def synthetic_bold(self) -> bool:
        return self.role.heavy and not self.file.heavy


def chosen_file(role: Role) -> FontFile:
    return next(f for f in role.candidates if f.present)


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "haoshangliang" / "fonts"


def _cut_path(folder: Path, role: Role, file: FontFile) -> Path:
    stat = file.path.stat()
    bold = role.heavy and not file.heavy
    key = f"{CUT_VERSION}|{file.path}|{file.face}|{stat.st_size}|{stat.st_mtime_ns}|{bold}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return folder / f"{role.key}-{digest}.otf"


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


def embolden(font: object, shift: float = SYNTHETIC_BOLD_SHIFT) -> None:
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


def cut(file: FontFile, target: Path, *, bold: bool, characters: list[int] | None = None) -> None:
    """``file`` cut to ``characters`` (the common ones by default), renumbered from 0,
    without layout tables or hinting; emboldened if ``bold``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    font = TTFont(file.path, fontNumber=file.face)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters or common_characters())
    subsetter.subset(font)
    if bold:
        embolden(font)
    partial = target.with_suffix(".partial")
    font.save(partial)
    os.replace(partial, target)


def faces(folder: Path | None = None) -> tuple[Face, ...]:
    """The face serving each role, making the cuts that are missing."""
    folder = folder or cache_folder()
    found = []
    for role in ROLES:
        file = chosen_file(role)
        found.append(Face(role, file, _cut_path(folder, role, file)))
    if any(not face.cut.exists() for face in found):
        with _locked(folder):
            for face in found:
                if not face.cut.exists():
                    cut(face.file, face.cut, bold=face.synthetic_bold)
    return tuple(found)


# Fontconfig, confined: WeasyPrint asks fontconfig for every face it uses, and fontconfig
# would offer every font on the machine. This configuration knows only the pip fonts
# (the last fallback); the roles come in through @font-face from their cuts.
FONTCONFIG_TEMPLATE = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""


def fontconfig_file(folder: Path | None = None) -> Path:
    folder = folder or cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fonts.conf"
    text = FONTCONFIG_TEMPLATE.format(
        fonts=PIP_SERIF.path.parent.resolve(), cache=(folder / "fontconfig").resolve()
    )
    if not path.exists() or path.read_text() != text:
        partial = path.with_suffix(".partial")
        partial.write_text(text)
        os.replace(partial, path)
    return path


@contextlib.contextmanager
def confined_fontconfig() -> Iterator[None]:
    """Within this block fontconfig loads the project's configuration (it reads
    ``FONTCONFIG_FILE`` whenever a configuration is loaded: at WeasyPrint's import and
    for each font configuration). The variable is put back afterwards, so programs this
    process starts (a browser, a server) see the machine's own fonts."""
    before = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(fontconfig_file())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("FONTCONFIG_FILE", None)
        else:
            os.environ["FONTCONFIG_FILE"] = before


def wanted_file(role: Role) -> FontFile:
    """The file ``make fonts`` provides for ``role``."""
    return next(f for f in role.candidates if f.package in MAKE_FONTS)


def missing_files() -> list[FontFile]:
    """For each role served by less than what ``make fonts`` provides, that file."""
    missing = []
    for role in ROLES:
        chosen, wanted = chosen_file(role), wanted_file(role)
        if role.candidates.index(chosen) > role.candidates.index(wanted):
            missing.append(wanted)
    return missing


def install_command(missing: list[FontFile]) -> str:
    """The command that installs what ``missing`` needs."""
    packages = sorted({f.package for f in missing if f.package in DEBIAN_PACKAGES})
    parts = []
    if packages:
        parts.append("sudo apt-get install " + " ".join(shlex.quote(p) for p in packages))
    if any(f.package == "make fonts" for f in missing):
        parts.append("make fonts")
    return " && ".join(parts)


def report() -> list[str]:
    """One line a role: the file that serves it."""
    lines = []
    for role in ROLES:
        file = chosen_file(role)
        note = "（合成粗体）" if role.heavy and not file.heavy else ""
        where = f"{file.path}" + (f" #{file.face}" if file.face else "")
        lines.append(f"{role.label}: {file.name}{note}  {where}")
    return lines


FANDOL_IN_PACKAGE = "./usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/"
FANDOL_DOCS_IN_PACKAGE = "./usr/share/doc/texlive-doc/fonts/fandol/"


def take_fandol_fang(folder: Path = PROJECT_FONTS) -> None:
    """FandolFang (GPL with the font exception: embedding in a document is allowed), with
    its licence and README, out of Debian's texlive-lang-chinese, without installing TeX:
    ``apt-get download`` (no root needed) and the package's data read in Python."""
    import subprocess
    import tarfile
    import tempfile

    wanted = {
        FANDOL_IN_PACKAGE + "FandolFang-Regular.otf": "FandolFang-Regular.otf",
        FANDOL_DOCS_IN_PACKAGE + "COPYING.gz": "FandolFang-COPYING.gz",
        FANDOL_DOCS_IN_PACKAGE + "README": "FandolFang-README",
    }
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            ["apt-get", "download", "-qq", "texlive-lang-chinese"],
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        package = next(Path(work).glob("texlive-lang-chinese_*.deb"))
        data = subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(package)], stdout=subprocess.PIPE
        )
        assert data.stdout is not None
        with tarfile.open(fileobj=data.stdout, mode="r|") as archive:
            for member in archive:
                name = wanted.get(member.name)
                if name and member.isfile():
                    source = archive.extractfile(member)
                    assert source is not None
                    partial = folder / f"{name}.partial"
                    partial.write_bytes(source.read())
                    # The package's time, so a fresh copy keeps the same cut (its key).
                    os.utime(partial, (member.mtime, member.mtime))
                    os.replace(partial, folder / name)
        data.wait()
    if not (folder / "FandolFang-Regular.otf").is_file():
        raise RuntimeError("texlive-lang-chinese did not hold FandolFang-Regular.otf")


def install(say: Callable[[str], None] = print) -> list[FontFile]:
    """What ``make fonts`` does: the Debian packages with apt (as root), FandolFang out of
    its package, then the cuts. Returns what is still missing (rendering then falls back
    to the pip fonts; ``deliberation fonts`` says so)."""
    import shutil
    import subprocess

    missing = missing_files()
    packages = sorted({f.package for f in missing if f.package in DEBIAN_PACKAGES})
    if packages and os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"用 apt 安装公文字体：{' '.join(packages)}")
        command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

        def apt(arguments: list[str]) -> int:
            return subprocess.run(
                arguments, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ).returncode

        if apt(command) != 0:
            apt(["apt-get", "update", "-qq"])
            apt(command)
    if any(f.package == "make fonts" for f in missing) and shutil.which("apt-get"):
        say("从 Debian 的 texlive-lang-chinese 包中取出仿宋字体 FandolFang")
        try:
            take_fandol_fang()
        except (OSError, RuntimeError, subprocess.CalledProcessError, StopIteration) as error:
            say(f"未能取得 FandolFang：{error}")
    faces()
    return missing_files()
