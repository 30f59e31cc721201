"""The documents' faces: each role from the file the project names, nothing else on the
machine seen, the same bytes wherever it renders (issue 12, item 1)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from fontTools.ttLib import TTFont

from deliberation.documents import font_cache, fonts
from deliberation.documents.render import RenderJob, render_pdf
from tests import faces

# 堃 is outside GB 2312: it prints from the full fallback face, which fontconfig finds:
# where an unconfined fontconfig would pick any font on the machine.
CONTEXT = {
    "issuer": "黄金埠镇“好商量”协商议事会",
    "number_text": "黄金埠协商〔2026〕1号",
    "title": "关于“王堃家门前路灯”协商成果的公示",
    "addressees": "各村(社区)：",
    "intro": "经“好商量”协商议事会议协商，形成以下协商成果。",
    "items": [{"n": 1, "content": "修复路灯", "unit": "镇建办", "due": "2026年12月1日"}],
    "posting_text": "公示期：5个工作日。",
    "office": "黄金埠镇“好商量”协商议事会办公室",
    "date_text": "2026年12月1日",
    "copy_to": "镇党委",
}
JOB = RenderJob("resolution_notice.html", CONTEXT, "http://127.0.0.1/verify/1", "核验", "公示", "x")


@pytest.mark.needs_faces
def test_every_role_is_served_by_what_make_fonts_installs() -> None:
    missing = fonts.missing_files()
    assert not missing, fonts.install_command(missing)
    served = {face.role.key: face for face in fonts.faces()}
    assert served["title"].file.name == "Noto Serif CJK SC Black"
    assert served["body"].file.name == "FandolFang"
    assert served["heading"].file.name == "Noto Sans CJK SC"
    assert served["subheading"].file.name == "AR PL UKai CN"
    # Each cut is cut from that file's face (for a collection, the Simplified Chinese one).
    for face in served.values():
        source = TTFont(face.file.path, fontNumber=face.file.face, lazy=True)["name"]
        cut = TTFont(face.cut, lazy=True)["name"]
        assert cut.getDebugName(4) == source.getDebugName(4)
    assert "SC" in (TTFont(served["title"].cut, lazy=True)["name"].getDebugName(4) or "")


def test_cuts_hold_every_gb_2312_character() -> None:
    wanted = set(fonts.common_characters())
    for face in fonts.faces():
        cmap = TTFont(face.cut, lazy=True).getBestCmap()
        han = {c for c in wanted if 0x4E00 <= c <= 0x9FFF}
        assert han <= set(cmap), (face.role.key, len(han - set(cmap)))


def test_a_regular_file_serving_a_heavy_role_is_emboldened(tmp_path: Path) -> None:
    """The pip fallback has no bold: its cut for the title draws each glyph twice."""
    characters = [ord(c) for c in "协商成果"]
    plain, bold = tmp_path / "plain.otf", tmp_path / "bold.otf"
    font_cache.make(fonts.PIP_SERIF.path, plain, bold=False, characters=characters)
    font_cache.make(fonts.PIP_SERIF.path, bold, bold=True, characters=characters)
    regular, heavy = TTFont(plain), TTFont(bold)
    assert heavy["OS/2"].usWeightClass == 700
    assert "SyntheticBold" in (heavy["name"].getDebugName(6) or "")
    shift = round(heavy["head"].unitsPerEm * fonts.SYNTHETIC_BOLD_SHIFT)
    for glyph in regular.getBestCmap().values():
        a, b = regular.getGlyphSet()[glyph], heavy.getGlyphSet()[glyph]
        assert a.width == b.width  # nothing moves on the page
        from fontTools.pens.boundsPen import BoundsPen

        pa, pb = BoundsPen(None), BoundsPen(None)
        a.draw(pa)
        b.draw(pb)
        assert pa.bounds is not None and pb.bounds is not None
        assert pb.bounds[2] - pa.bounds[2] == pytest.approx(shift, abs=1)  # wider strokes


def test_the_same_content_gives_the_same_bytes() -> None:
    assert render_pdf(JOB) == render_pdf(JOB)


def test_a_process_that_rendered_in_its_main_thread_exits_cleanly() -> None:
    """A pytest run whose tests render in the main thread (as the one above does) ends
    with pytest's own exit code. It used to die with SIGSEGV (139) after all its tests
    had passed: the main thread's font configuration was freed after WeasyPrint's
    libraries were unloaded (``render._forget_font_configuration``)."""
    root = Path(__file__).resolve().parents[2]
    test = f"{Path(__file__).relative_to(root)}::test_the_same_content_gives_the_same_bytes"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, (run.returncode, run.stdout[-1500:], run.stderr[-1500:])
    assert "1 passed" in run.stdout


RENDER_ELSEWHERE = """
import sys
from deliberation.documents.render import render_pdf
from tests.deliberation.test_fonts import JOB
sys.stdout.buffer.write(render_pdf(JOB))
"""


def test_an_extra_font_on_the_machine_changes_nothing(tmp_path: Path) -> None:
    """Another process, on a "machine" whose fontconfig has an extra CJK font in the
    user's font folder, renders the same bytes."""
    extra = tmp_path / "data" / "fonts"
    extra.mkdir(parents=True)
    other = Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Light.ttf")
    source = other if other.is_file() else fonts.PIP_SANS.path
    (extra / source.name).symlink_to(source)
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(fonts.cache_folder().parents[1]),
        "HOME": str(tmp_path),
    }
    env.pop("FONTCONFIG_FILE", None)
    # The machine's fontconfig does see the extra font (so the check below means something).
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "file"], env=env, capture_output=True, text=True, check=True
    )
    assert source.name in listed.stdout
    root = Path(__file__).resolve().parents[2]
    elsewhere = subprocess.run(
        [sys.executable, "-c", RENDER_ELSEWHERE],
        env=env,
        cwd=root,
        capture_output=True,
        check=True,
        timeout=300,
    ).stdout
    here = render_pdf(JOB)
    assert elsewhere == here
    with pdfplumber.open(io.BytesIO(here)) as pdf:
        used = {c["fontname"].split("+")[-1] for p in pdf.pages for c in p.chars}
        rare = [c for p in pdf.pages for c in p.chars if c["text"] == "堃"]
    assert rare and all("Noto-Serif-SC" in c["fontname"] for c in rare), rare[:1]
    assert all(name.startswith(("HSL-", "Noto-Serif-SC", "Noto-Sans-SC")) for name in used), used


def test_fonts_command_names_the_file_of_every_role() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "fonts"], capture_output=True, text=True, check=True
    ).stdout
    for face in fonts.faces():
        assert face.role.label in out and str(face.file.path) in out
    missing = fonts.missing_files()
    if missing:
        assert fonts.install_command(missing) in out
    else:
        assert "字体齐全" in out


HIDE_FACES = """
from deliberation.documents import fonts

# This machine "has" only the pip fonts.
fonts.FontFile.present = property(lambda self: self.package == "" and self.path.is_file())
"""
NEEDS_FACES = """
import pytest

@pytest.mark.needs_faces
def test_in_the_faces():
    pass

def test_in_any_font():
    pass
"""


def test_without_the_faces_their_tests_skip_saying_how_to_install_them_but_fail_in_ci(
    tmp_path: Path,
) -> None:
    (tmp_path / "hide_faces.py").write_text(HIDE_FACES)
    (tmp_path / "test_needs.py").write_text(NEEDS_FACES)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"}
    env.pop(faces.REQUIRE_ENV, None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "hide_faces"]
    command += ["-p", "tests.faces", str(tmp_path / "test_needs.py")]
    install = (
        "sudo apt-get install fonts-arphic-ukai fonts-noto-cjk fonts-noto-cjk-extra && make fonts"
    )

    here = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert here.returncode == 0, here.stdout[-2000:]
    assert "1 passed, 1 skipped" in here.stdout
    assert f"安装命令：{install}" in here.stdout
    assert "1 document-face tests SKIPPED" in here.stdout

    env[faces.REQUIRE_ENV] = "1"
    ci = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert ci.returncode == 1, ci.stdout[-2000:]
    assert "1 passed, 1 error" in ci.stdout  # failed in its setup
    assert f"{faces.REQUIRE_ENV}=1" in ci.stdout and install in ci.stdout
