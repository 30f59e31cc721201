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
folder by what it is made of: ``font_cache.py``). WeasyPrint keeps every glyph slot up
to the highest one a document uses, and CJK glyph ids run to 65 000, so an uncut face
weighs ~100 KB in every PDF; a cut one weighs a fraction of that. A character outside
the cut falls back to the full Noto face of the same style. Where a heavy role has only
a regular file (the pip fallback), the cut is emboldened: every glyph drawn twice, 3 % of
an em apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pylopdf_fonts_zh_cn

from deliberation.documents import font_cache
from deliberation.documents.font_cache import (
    SYNTHETIC_BOLD_SHIFT,
    cache_folder,
    common_characters,
    embolden,
)

__all__ = [
    "ROLES",
    "SYNTHETIC_BOLD_SHIFT",
    "Face",
    "FontFile",
    "Role",
    "cache_folder",
    "common_characters",
    "confined_fontconfig",
    "embolden",
    "faces",
    "install",
    "missing_files",
    "planned_faces",
    "report",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# FandolFang is taken from TeX Live's Chinese package without installing TeX (make fonts).
PROJECT_FONTS = PROJECT_ROOT / "var" / "fonts"
NOTO = Path("/usr/share/fonts/opentype/noto")
FANDOL = Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol")
# In Debian's Noto CJK collections the Simplified Chinese face is the third.
NOTO_SC = 2
# Emboldening a cut (the pip fallback for the title) triples its time (measured).
BOLD_COST = 3


@dataclass(frozen=True)
class FontFile:
    """One font file (one face of it, for a collection) and what installs it."""

    name: str
    path: Path
    face: int = 0
    heavy: bool = False
    package: str = ""  # the Debian package; "" for the pip fonts, always present
    seconds: int = 10  # about how long its cut takes on one idle core (measured)

    @property
    def present(self) -> bool:
        return self.path.is_file()


PIP_SERIF = FontFile("Noto Serif SC", pylopdf_fonts_zh_cn.serif_path(), seconds=10)
PIP_SANS = FontFile("Noto Sans SC", pylopdf_fonts_zh_cn.sans_path(), seconds=4)


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
                seconds=9,
            ),
            FontFile(
                "Noto Serif CJK SC Bold",
                NOTO / "NotoSerifCJK-Bold.ttc",
                NOTO_SC,
                heavy=True,
                package="fonts-noto-cjk",
                seconds=10,
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
                "FandolFang",
                FANDOL / "FandolFang-Regular.otf",
                package="texlive-lang-chinese",
                seconds=9,
            ),
            FontFile(
                "FandolFang",
                PROJECT_FONTS / "FandolFang-Regular.otf",
                package="make fonts",
                seconds=9,
            ),
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
                seconds=4,
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
                seconds=1,
            ),
            FontFile(
                "LXGW WenKai",
                Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"),
                package="fonts-lxgw-wenkai",
                seconds=5,
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
                seconds=9,
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


def _cut_of(role: Role, file: FontFile, folder: Path) -> font_cache.Cut:
    bold = role.heavy and not file.heavy
    label = f"{role.label}{file.name}" + ("（合成粗体）" if bold else "")
    seconds = file.seconds * (BOLD_COST if bold else 1)
    return font_cache.planned(file.path, file.face, bold, folder, label, seconds)


def planned_faces(folder: Path | None = None) -> tuple[Face, ...]:
    """The face serving each role and where its cut is kept (made or not)."""
    folder = folder or cache_folder()
    found = []
    for role in ROLES:
        file = chosen_file(role)
        found.append(Face(role, file, _cut_of(role, file, folder).path))
    return tuple(found)


def cuts(folder: Path | None = None) -> list[font_cache.Cut]:
    """The cuts the roles need, each once."""
    folder = folder or cache_folder()
    return [_cut_of(role, chosen_file(role), folder) for role in ROLES]


def missing_cuts(folder: Path | None = None) -> list[font_cache.Cut]:
    return font_cache.missing(cuts(folder))


def faces(
    folder: Path | None = None, say: font_cache.Say | None = None, *, processes: int = 1
) -> tuple[Face, ...]:
    """The face serving each role, making the cuts that are missing."""
    font_cache.ensure(cuts(folder), say, processes=processes)
    return planned_faces(folder)


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
    """The configuration, named by its content: each ``.venv`` has its own pip fonts'
    folder, and checkouts sharing the cache folder must not rewrite each other's."""
    folder = folder or cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    text = FONTCONFIG_TEMPLATE.format(
        fonts=PIP_SERIF.path.parent.resolve(), cache=(folder / "fontconfig").resolve()
    )
    path = folder / f"fonts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.conf"
    if not path.exists():
        handle, partial = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".partial")
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(partial, 0o644)
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


def _duration(seconds: float) -> str:
    """About how long, in words: 约 20 秒, 约 2 分钟."""
    if seconds < 90:
        return f"约 {max(5, round(seconds / 5) * 5)} 秒"
    return f"约 {round(seconds / 60)} 分钟"


def _download_megabytes(packages: list[str]) -> int:
    """What apt will download for ``packages`` (0 if it cannot say)."""
    import subprocess

    shown = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *packages],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    sizes = [int(line.split()[1]) for line in shown.splitlines() if line.startswith("Size: ")]
    return round(sum(sizes) / 1e6)


# What a download is said to take: 5 MB/s, plus unpacking.
MEGABYTES_PER_SECOND = 5


def install(say: Callable[[str], None] = print, *, processes: int = 1) -> list[FontFile]:
    """What ``make fonts`` does: the Debian packages with apt (as root), FandolFang out of
    its package, then the cuts (``processes`` at once), each step said before it starts
    with about how long it takes. Returns what is still missing (rendering then falls
    back to the pip fonts; ``deliberation fonts`` says so)."""
    import shutil
    import subprocess

    missing = missing_files()
    packages = sorted({f.package for f in missing if f.package in DEBIAN_PACKAGES})
    if packages and os.geteuid() == 0 and shutil.which("apt-get"):
        size = _download_megabytes(packages)
        how_long = _duration(size / MEGABYTES_PER_SECOND + 10 * len(packages))
        listed = " ".join(packages)
        say(f"用 apt 安装公文字体：{listed}（下载约 {size} MB，{how_long}，视网速而定）")
        command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

        def apt(arguments: list[str]) -> int:
            return subprocess.run(
                arguments, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ).returncode

        if apt(command) != 0:
            say("apt 安装失败，先更新软件包列表再试一次（约 30 秒）")
            apt(["apt-get", "update", "-qq"])
            apt(command)
    if any(f.package == "make fonts" for f in missing) and shutil.which("apt-get"):
        size = _download_megabytes(["texlive-lang-chinese"])
        how_long = _duration(size / MEGABYTES_PER_SECOND + 10)
        say(
            f"下载 Debian 的 texlive-lang-chinese 包（约 {size} MB，{how_long}），"
            "取出其中的仿宋字体 FandolFang"
        )
        try:
            take_fandol_fang()
        except (OSError, RuntimeError, subprocess.CalledProcessError, StopIteration) as error:
            say(f"未能取得 FandolFang：{error}")
    todo = missing_cuts()
    if todo:
        at_once = min(processes, len(todo))
        seconds = max(sum(c.seconds for c in todo) / at_once, max(c.seconds for c in todo))
        say(
            f"切字体：共 {len(todo)} 种，{_duration(seconds)}"
            f"（每台机器只切一次，存于 {cache_folder()}）"
        )
    faces(say=say, processes=processes)
    return missing_files()
