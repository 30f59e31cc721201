"""``make run`` on a fresh clone, as a newcomer meets it: the time from ``make run`` to
``/healthz`` answering, and the longest silence in its output.

The clone is made from this checkout's commit (or ``--rev``) into a temporary folder:
no ``.venv``, no ``var/``, and an empty font cache (``XDG_CACHE_HOME`` points into the
temporary folder; pip's own cache is linked in, so what is measured is this project's
first run, not a download of every wheel). Every output line is timestamped as it
arrives. ``make run`` runs in a process group of its own and only that group is stopped.

Stdlib only: ``python3 bench/first_run.py`` works before any ``.venv`` exists.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200 and b'"ok"' in answer.read())
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="HEAD", help="the commit to clone (default: HEAD)")
    parser.add_argument("--port", type=int, default=8231, help="where make run serves")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after (s)")
    parser.add_argument(
        "--after", type=float, default=0.0, help="keep it running this long after /healthz"
    )
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path printed)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="fresh-"))
    clone = work / "clone"
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", args.rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
    cache = work / "cache"
    cache.mkdir()
    pip_cache = Path.home() / ".cache" / "pip"
    if pip_cache.is_dir():
        (cache / "pip").symlink_to(pip_cache)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    for name in ("VIRTUAL_ENV", "FONTCONFIG_FILE", "DELIBERATION_DATABASE_URL", "MAKEFLAGS"):
        env.pop(name, None)

    lines: list[tuple[float, str]] = []
    start = time.monotonic()
    run = subprocess.Popen(
        ["make", "run", f"PORT={args.port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped below, nothing else
    )
    assert run.stdout is not None
    stream = run.stdout

    def read() -> None:
        for raw in iter(stream.readline, b""):
            at = time.monotonic() - start
            text = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append((at, text))
            print(f"[{at:6.1f}s] {text}", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    answered_at = None
    try:
        while time.monotonic() - start < args.timeout:
            if healthy(args.port):
                answered_at = time.monotonic() - start
                break
            if run.poll() is not None:
                break
            time.sleep(0.5)
        if answered_at is not None and args.after:
            time.sleep(args.after)
    finally:
        with_group = run.poll() is None
        if with_group:
            os.killpg(run.pid, signal.SIGTERM)
            try:
                run.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        reader.join(5)

    until = answered_at if answered_at is not None else time.monotonic() - start
    moments = [0.0] + [at for at, _ in lines if at <= until] + [until]
    gaps = [(b - a, a) for a, b in itertools.pairwise(moments)]
    silence, silence_from = max(gaps) if gaps else (until, 0.0)
    before = [text for at, text in lines if at <= silence_from]
    result = {
        "rev": subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "healthz_seconds": None if answered_at is None else round(answered_at, 1),
        "longest_silence_seconds": round(silence, 1),
        "silence_after": before[-1] if before else "(start)",
        "silence_from_seconds": round(silence_from, 1),
        "lines": len(lines),
        "load_average_at_end": os.getloadavg(),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "first_run.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    if args.keep:
        print(f"clone kept: {clone}")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0 if answered_at is not None else 1


if __name__ == "__main__":
    sys.exit(main())
