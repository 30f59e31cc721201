"""make's slow steps, told as they go (tools/step.py, issue 24 item 6): the step is said
before it starts, its output passes through as it comes, a silent stretch gets a line
every few seconds, and a failure keeps its exit code and says so."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

STEP = Path(__file__).resolve().parents[2] / "tools" / "step.py"


def step(*arguments: str) -> tuple[int, list[tuple[float, str]]]:
    """Runs a step; each line it printed with the moment it came."""
    started = time.monotonic()
    run = subprocess.Popen(
        [sys.executable, "-I", str(STEP), *arguments], stdout=subprocess.PIPE, text=True
    )
    assert run.stdout is not None
    lines = [(time.monotonic() - started, line.rstrip("\n")) for line in run.stdout]
    return run.wait(), lines


def test_a_silent_step_is_said_first_then_keeps_talking() -> None:
    code, lines = step(
        "--every",
        "0.5",
        "测试步骤（约 2 秒）",
        "--",
        sys.executable,
        "-c",
        "import time; print('开始'); time.sleep(1.8); print('完成')",
    )
    assert code == 0
    texts = [text for _, text in lines]
    assert texts[0] == "==> 测试步骤（约 2 秒）"
    assert texts[1] == "开始" and texts[-1] == "完成"
    beats = [text for text in texts[2:-1] if text.startswith("    …… 仍在进行")]
    assert len(beats) >= 2, texts
    moments = [at for at, _ in lines]
    assert max(b - a for a, b in itertools.pairwise(moments)) < 1.2  # never silent for long
    # The child's lines came as it printed them, not when it ended.
    assert lines[1][0] < lines[-1][0] - 1


def test_a_failed_step_keeps_its_exit_code_and_says_so() -> None:
    code, lines = step("坏步骤", "--", sys.executable, "-c", "import sys; sys.exit(3)")
    assert code == 3
    assert lines[-1][1] == "==> 失败：坏步骤（退出码 3）"
