"""One slow step of ``make``, told as it goes: what it does and about how long it takes,
said before it starts; its output passed through line by line; a line every few seconds
while it is silent, so nobody takes a working install for a hung one; a plain line if
it fails, with its exit code.

    python3 -I tools/step.py "安装依赖（pip，约 1 分钟）" -- .venv/bin/python -m pip ...

Stdlib only: it runs before ``.venv`` exists. An empty message says nothing before the
step (for a command that says its own steps, like ``deliberation fonts --install``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time


def run(message: str, command: list[str], every: float) -> int:
    if message:
        print(f"==> {message}", flush=True)
    started = time.monotonic()
    last_output = [started]
    # Python children write at once (not when a pipe's buffer fills).
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    except OSError as error:
        print(f"==> 失败：{message or command[0]}（{error}）", flush=True)
        return 127
    assert child.stdout is not None
    stream = child.stdout
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(0.25):
            now = time.monotonic()
            if now - last_output[0] >= every:
                print(f"    …… 仍在进行（已 {now - started:.0f} 秒）", flush=True)
                last_output[0] = now

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    try:
        for line in iter(stream.readline, b""):
            last_output[0] = time.monotonic()
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
        code = child.wait()
    except KeyboardInterrupt:
        child.wait()
        code = 130
    finally:
        done.set()
        beating.join()
    if code != 0:
        print(f"==> 失败：{message or ' '.join(command)}（退出码 {code}）", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("message", help="what the step does and about how long it takes")
    parser.add_argument("command", nargs="+", help="the command, after --")
    parser.add_argument(
        "--every", type=float, default=10.0, help="seconds of silence before a line"
    )
    args = parser.parse_args(argv)
    return run(args.message, args.command, args.every)


if __name__ == "__main__":
    sys.exit(main())
