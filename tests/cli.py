"""Running ``deliberation`` commands from the tests.

:func:`run_cli` runs a command in this process (``api.cli.main`` in a thread of its own,
in an application context of its own: the command's engine, key and clock, the caller's
untouched; see docs/decisions.md, "One application context"). It costs milliseconds where
a subprocess cost ~3.5 s of CPU (importing the whole application and WeasyPrint).
:func:`run_cli_process` runs the installed entry point as a subprocess: kept for the few
tests that prove the command itself starts (from another folder, with its own imports).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

from api import cli
from deliberation import clock

ROOT = Path(__file__).resolve().parents[1]

_one_at_a_time = threading.Lock()
"""A command's output is caught by swapping ``sys.stdout``/``sys.stderr``: one command
at a time."""


def cli_environment(database_url: str, cwd: Path | None = None) -> dict[str, str]:
    """What a command sees: the tests' environment (audit key, clock), this database,
    and its ``var/`` in ``cwd`` (a folder of the test's own) rather than the checkout's."""
    environ = {
        **os.environ,
        "DELIBERATION_DATABASE_URL": database_url,
        "DELIBERATION_SECRET_KEY": "x" * 32,
        # The caller's clock, moved or not.
        clock.OFFSET_ENV: repr(clock.offset_seconds()),
    }
    if cwd is not None:
        environ.setdefault("DELIBERATION_VAR_DIR", str(cwd / "var"))
    return environ


def run_cli(
    database_url: str, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``deliberation ARGS`` in this process; its exit code and output as a subprocess's."""
    environ = cli_environment(database_url, cwd)
    outcome: dict[str, object] = {}

    def command() -> None:
        out, err = io.StringIO(), io.StringIO()
        saved_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    outcome["code"] = cli.main(list(args), environ)
                except SystemExit as leaving:  # argparse's usage errors
                    code = leaving.code
                    outcome["code"] = code if isinstance(code, int) else (0 if code is None else 1)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error
        finally:
            sys.stdin = saved_stdin
            outcome["out"], outcome["err"] = out.getvalue(), err.getvalue()

    with _one_at_a_time:
        # A thread of its own: the command runs its own event loop (asyncio.run), even
        # when the caller is a test on the suite's loop.
        worker = threading.Thread(target=command, name="deliberation-cli")
        worker.start()
        worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return subprocess.CompletedProcess(
        ["deliberation", *args],
        int(outcome["code"]),
        str(outcome["out"]),
        str(outcome["err"]),  # type: ignore[call-overload]
    )


def run_cli_process(
    database_url: str, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m api.cli ARGS`` as a subprocess (the installed command's own start)."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_environment(database_url),
        cwd=cwd or ROOT,
        timeout=120,
    )
