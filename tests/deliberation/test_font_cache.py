"""The faces' cuts, kept by what they are made of (issue 24, item 5): a second checkout
reuses the first one's cut, two processes cutting at once make each cut once, and a
failed cut leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fontTools.ttLib import TTFont

from deliberation.documents import font_cache, fonts

# Small real fonts cut in a fraction of a second (fontconfig's own DejaVu, on every Debian
# with WeasyPrint); the pip fonts where they are missing.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SMALL = [DEJAVU / f"{name}.ttf" for name in ("DejaVuSans", "DejaVuSerif", "DejaVuSansMono")]
SOURCES = SMALL if all(p.is_file() for p in SMALL) else [fonts.PIP_SANS.path, fonts.PIP_SERIF.path]


def checkout_copy(source: Path, checkout: Path, mtime: float) -> Path:
    """``source`` as another checkout holds it (var/fonts/), with a time of its own."""
    copy = checkout / "var" / "fonts" / source.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(source, copy)
    os.utime(copy, (mtime, mtime))
    return copy


def test_a_second_checkout_reuses_the_first_ones_cut(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = checkout_copy(SOURCES[0], tmp_path / "one", 1_000_000_000)
    second = checkout_copy(SOURCES[0], tmp_path / "two", 1_700_000_000)
    cut_one = font_cache.planned(first, 0, False, cache, "一")
    cut_two = font_cache.planned(second, 0, False, cache, "二")
    assert cut_one.path == cut_two.path  # another path and time, the same bytes

    said: list[str] = []
    font_cache.ensure([cut_one], said.append)
    assert said == [f"切字体 1/1：一（约 {cut_one.seconds} 秒）"]
    made = cut_one.path.stat().st_mtime_ns
    font_cache.ensure([cut_two], said.append)
    assert len(said) == 1 and cut_two.path.stat().st_mtime_ns == made  # not cut again
    assert TTFont(cut_two.path).getBestCmap()[ord("A")]

    # What the bytes depend on changes the name: the content, synthetic bold, the face.
    with open(second, "r+b") as font:
        font.seek(-1, os.SEEK_END)
        last = font.read(1)
        font.seek(-1, os.SEEK_END)
        font.write(bytes([last[0] ^ 1]))
    assert font_cache.planned(second, 0, False, cache).path != cut_one.path
    assert font_cache.planned(first, 0, True, cache).path != cut_one.path
    assert font_cache.planned(first, 1, False, cache).path != cut_one.path


CUT_AT_ONCE = """
import sys, time
from pathlib import Path
from deliberation.documents import font_cache

folder, start = Path(sys.argv[1]), float(sys.argv[2])
cuts = [font_cache.planned(Path(p), 0, False, folder, Path(p).name, 1) for p in sys.argv[3:]]
time.sleep(max(0.0, start - time.time()))  # both begin together, after their imports
font_cache.ensure(cuts, lambda text: print(text, flush=True))
"""


def test_two_processes_cutting_at_once_make_each_cut_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = Path(__file__).resolve().parents[2]
    start = time.time() + 8
    arguments = [sys.executable, "-c", CUT_AT_ONCE, str(cache), str(start), *map(str, SOURCES)]
    runs = [
        subprocess.Popen(arguments, cwd=root, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    said = [line for out in outputs for line in out.splitlines() if line.startswith("切字体")]
    assert sorted(line.split("：")[1] for line in said) == sorted(
        f"{p.name}（约 1 秒）" for p in SOURCES
    ), outputs  # each cut by one of the two, none twice
    for source in SOURCES:
        cut = font_cache.planned(source, 0, False, cache)
        assert TTFont(cut.path).getBestCmap()[ord("A")]
    assert not list(cache.glob("*.partial"))


def test_a_failed_cut_leaves_nothing_behind(tmp_path: Path) -> None:
    broken = tmp_path / "broken.otf"
    broken.write_bytes(SOURCES[0].read_bytes()[:4096])  # a font cut short
    cut = font_cache.planned(broken, 0, False, tmp_path / "cache")
    try:
        font_cache.ensure([cut])
    except Exception:
        pass
    else:
        raise AssertionError("a truncated font was cut")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [cut.path.name + ".lock"]
