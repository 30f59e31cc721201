"""Page 1 of each kind of document, as PNG pictures beside this file: ``make pictures``.

The demo township is seeded into a throw-away SQLite database; each kind is rendered
and published from one demo topic with the ``deliberation`` command, exactly as a
clerk's office would, and poppler's ``pdftoppm`` turns page 1 into a picture (100 dpi).
Reviewers see the layout without rendering anything.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOPIC = "塘背村留守儿童课后托管"  # the demo topic in feedback: it has all three kinds
KINDS = ("minutes", "resolution_notice", "feedback_report")


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "DELIBERATION_DATABASE_URL": f"sqlite:///{work}/demo.db"}

        def deliberation(*arguments: str) -> None:
            subprocess.run(
                [sys.executable, "-m", "api.cli", *arguments],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )

        deliberation("migrate")
        deliberation("demo")
        with sqlite3.connect(f"{work}/demo.db") as db:
            (reference,) = db.execute(
                "SELECT reference FROM topic WHERE title = ?", (TOPIC,)
            ).fetchone()
        for kind in KINDS:
            pdf = Path(work) / f"{kind}.pdf"
            deliberation("render", reference, "--kind", kind, "--publish", "--out", str(pdf))
            page_one = ["-r", "100", "-f", "1", "-l", "1", "-png", "-singlefile"]
            subprocess.run(["pdftoppm", *page_one, str(pdf), str(HERE / kind)], check=True)
            print(f"{(HERE / kind).relative_to(ROOT)}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
